// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Archive;
using FlowEngine.ArchiveHost;

namespace FlowEngine.Tests.Archive;

public sealed class ArchiveRotationTests : IDisposable
{
    private readonly string _dir = ArchiveTestData.TempDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<long> Indexes(ArchiveReader reader)
    {
        // HostRecords puts the record's index into FirstNs.
        return reader.Read().Select(f => (f.Record.FirstNs - 1_700_000_000_000_000_000) / 1_000_000).ToList();
    }

    [Fact]
    public void MaxSegmentBytes_RotatesAndEverySegmentHasAnIndexWithinTheLimit()
    {
        var options = new ArchiveWriterOptions { RecordsPerFrame = 32, MaxSegmentBytes = 32 << 10, MaxTotalBytes = 0 };
        using (var writer = new ArchiveWriter(_dir, options))
        {
            for (int i = 0; i < 2000; i++)
            {
                writer.Append(HostRecords.Record(i), HostRecords.Context(i));
            }
        }

        string[] segments = Directory.GetFiles(_dir, "*.fes").Order().ToArray();
        Assert.True(segments.Length >= 10, $"{segments.Length} segments");
        foreach (string s in segments)
        {
            Assert.True(File.Exists(Path.ChangeExtension(s, ".fei")), $"{s} has no index");

            // A segment is sealed after the frame that reaches the limit: at most one frame over it.
            Assert.InRange(new FileInfo(s).Length, 1, (32 << 10) + (32 * 400) + 400);
        }

        var reader = new ArchiveReader(_dir);
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => (long)i), Indexes(reader));
        Assert.Equal(segments.Length, reader.SegmentCount);
    }

    [Fact]
    public void MaxSegmentAge_SegmentsSpanAtMostTheAgeInPacketTime()
    {
        // HostRecords: one record per millisecond of first-packet time, last packets up to 5 s later; every tenth: 30 s.
        var options = new ArchiveWriterOptions { RecordsPerFrame = 16, MaxSegmentAge = TimeSpan.FromSeconds(10) };
        using (var writer = new ArchiveWriter(_dir, options))
        {
            for (int i = 0; i < 30_000; i += 10)
            {
                writer.Append(HostRecords.Record(i), HostRecords.Context(i));
            }
        }

        var reader = new ArchiveReader(_dir);
        Assert.True(reader.SegmentCount >= 2, $"{reader.SegmentCount} segments");
        foreach (SegmentIndex s in reader.Segments)
        {
            Assert.True(s.MaxLastNs - s.MinFirstNs < 10_000_000_000, $"segment {s.Sequence} spans {(s.MaxLastNs - s.MinFirstNs) / 1e9} s");
        }

        Assert.Equal(Enumerable.Range(0, 3000).Select(i => 10L * i), Indexes(reader));
    }

    [Fact]
    public void MaxTotalBytes_DeletesOldestSegmentsKeepsNewestContiguous()
    {
        var options = new ArchiveWriterOptions { RecordsPerFrame = 32, MaxSegmentBytes = 32 << 10, MaxTotalBytes = 128 << 10 };
        int deleted;
        using (var writer = new ArchiveWriter(_dir, options))
        {
            for (int i = 0; i < 4000; i++)
            {
                writer.Append(HostRecords.Record(i), HostRecords.Context(i));
            }

            writer.Complete();
            deleted = writer.SegmentsDeleted;
        }

        long total = Directory.GetFiles(_dir, "*.fes").Sum(f => new FileInfo(f).Length);
        Assert.True(deleted > 0);
        Assert.InRange(total, 64 << 10, 128 << 10);
        List<long> kept = Indexes(new ArchiveReader(_dir));

        // What is left is the newest records, none missing in between, up to the last one written.
        Assert.Equal(3999, kept[^1]);
        Assert.Equal(Enumerable.Range((int)kept[0], kept.Count).Select(i => (long)i), kept);
        Assert.True(kept[0] > 0);
        Assert.Empty(Directory.GetFiles(_dir, "0000000000.*"));
    }

    [Fact]
    public void RetentionAge_DeletesSegmentsWhoseFlowsEndedLongBeforeTheNewest()
    {
        var options = new ArchiveWriterOptions { RecordsPerFrame = 16, MaxSegmentAge = TimeSpan.FromSeconds(2), RetentionAge = TimeSpan.FromSeconds(20), MaxTotalBytes = 0 };
        using (var writer = new ArchiveWriter(_dir, options))
        {
            for (int i = 0; i < 60_000; i += 10)
            {
                // Flows of 1 ms, so segment end times grow with the sequence.
                FlowEngine.Flows.FlowRecord r = HostRecords.Record(i);
                r.LastNs = r.FirstNs + 1_000_000;
                writer.Append(r, HostRecords.Context(i));
            }
        }

        var reader = new ArchiveReader(_dir);
        long newestLast = reader.Segments.Max(s => s.MaxLastNs);
        Assert.All(reader.Segments, s => Assert.True(s.MaxLastNs >= newestLast - 20_000_000_000, $"segment {s.Sequence} ended {(newestLast - s.MaxLastNs) / 1e9} s before the newest"));
        List<long> kept = Indexes(reader);
        Assert.True(kept[0] > 0, "nothing was deleted");
        Assert.Equal(59_990, kept[^1]);
        Assert.Equal(Enumerable.Range(0, kept.Count).Select(i => kept[0] + (10 * i)), kept);
    }

    [Fact]
    public void Reopen_AppendsToNewSegmentAfterTheOld()
    {
        using (var writer = new ArchiveWriter(_dir, new ArchiveWriterOptions { RecordsPerFrame = 10 }))
        {
            for (int i = 0; i < 25; i++)
            {
                writer.Append(HostRecords.Record(i), HostRecords.Context(i));
            }
        }

        using (var writer = new ArchiveWriter(_dir, new ArchiveWriterOptions { RecordsPerFrame = 10 }))
        {
            Assert.Empty(writer.RecoveryIssues);
            for (int i = 25; i < 40; i++)
            {
                writer.Append(HostRecords.Record(i), HostRecords.Context(i));
            }
        }

        var reader = new ArchiveReader(_dir);
        Assert.Equal(2, reader.SegmentCount);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), Indexes(reader));
    }

    [Fact]
    public void CommitEveryFrames_AcknowledgesWithoutFlush()
    {
        using var writer = new ArchiveWriter(_dir, new ArchiveWriterOptions { RecordsPerFrame = 10, CommitEveryFrames = 2 });
        for (int i = 0; i < 45; i++)
        {
            writer.Append(HostRecords.Record(i), HostRecords.Context(i));
            long expected = i + 1 >= 40 ? 40 : i + 1 >= 20 ? 20 : 0;
            Assert.Equal(expected, writer.RecordsAcknowledged);
        }

        // What is acknowledged is on disk for a reader now, without a flush.
        Assert.Equal(40, new ArchiveReader(_dir).Read().Count());
        writer.Flush();
        Assert.Equal(45, writer.RecordsAcknowledged);
    }
}
