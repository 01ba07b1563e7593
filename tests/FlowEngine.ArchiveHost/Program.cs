// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

// A writer the crash tests run in a child process and kill with SIGKILL (tests/FlowEngine.Tests/Archive).
//   torn DIR N    appends N records, flushes, prints "ACK N", then appends until a frame is half on disk, prints "HALF" and waits
//   run DIR N     appends records, flushing every 97 and printing "ACK <records acknowledged>" after each flush, up to N records
using FlowEngine.Archive;
using FlowEngine.ArchiveHost;

if (args.Length != 3 || !int.TryParse(args[2], out int n))
{
    Console.Error.WriteLine("usage: FlowEngine.ArchiveHost torn|run DIR N");
    return 2;
}

var writer = new ArchiveWriter(args[1], new ArchiveWriterOptions { RecordsPerFrame = 64, MaxSegmentBytes = 256 << 10 });
long i = 0;
if (args[0] == "torn")
{
    for (; i < n; i++)
    {
        writer.Append(HostRecords.Record(i), HostRecords.Context(i));
    }

    writer.Flush();
    Console.Out.WriteLine($"ACK {i}");
    Console.Out.Flush();
    writer.FrameHalfWritten = _ =>
    {
        Console.Out.WriteLine("HALF");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
    };
    for (; i < n + 10_000; i++)
    {
        writer.Append(HostRecords.Record(i), HostRecords.Context(i));
    }

    return 1;
}

for (; i < n; i++)
{
    writer.Append(HostRecords.Record(i), HostRecords.Context(i));
    if ((i + 1) % 97 == 0)
    {
        writer.Flush();
        Console.Out.WriteLine($"ACK {i + 1}");
        Console.Out.Flush();
    }
}

writer.Dispose();
Console.Out.WriteLine("DONE");
return 0;
