// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.AppLayer;
using FlowEngine.Archive;
using FlowEngine.Benchmarks.Flows;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Archive;

/// <summary>
/// The archive on the flows of samples/data/lab-small.pcapng (with their VMs, tenants and application metadata, as
/// <c>flows --archive</c> writes them), repeated to <see cref="Records"/>: appending (frames sealed, compressed and
/// written as they fill; not synced), and reading back through a cursor. Reported per record; the write paths must
/// not allocate.
/// </summary>
[MemoryDiagnoser]
public class ArchiveBenchmarks : IDisposable
{
    private const int Records = 4096;
    private const int ReadRecords = 65536;

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"flowengine-archive-bench-{Environment.ProcessId}");
    private ArchivedFlow[] _flows = [];
    private FlowRecord[] _records = [];
    private ArchiveWriter? _withContext;
    private ArchiveWriter? _sink;
    private ArchiveReader? _reader;

    [GlobalSetup]
    public void Setup()
    {
        string lab = Path.Combine(_root, "lab");
        var metadata = new AppMetadataTable();
        string inventory = Path.Combine(Path.GetDirectoryName(LabCapture.Path)!, "lab-small.inventory.csv");
        var vms = new VmIdentityTable(VmInventory.Load(inventory));
        using (var writer = new ArchiveWriter(lab, null, metadata, vms))
        using (CaptureFileReader capture = CaptureFile.Open(LabCapture.Path))
        {
            new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
                writer, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms))).Run(capture);
        }

        List<ArchivedFlow> flows = new ArchiveReader(lab).Read().ToList();
        _flows = Enumerable.Range(0, Records).Select(i => flows[i % flows.Count]).ToArray();
        _records = _flows.Select(f => f.Record).ToArray();

        // Appending archives: not synced (the device is not what is measured), bounded on disk by retention.
        var options = new ArchiveWriterOptions { Durable = false, MaxSegmentBytes = 16 << 20, MaxTotalBytes = 64 << 20 };
        _withContext = new ArchiveWriter(Path.Combine(_root, "append"), options);
        _sink = new ArchiveWriter(Path.Combine(_root, "sink"), options);

        using (var writer = new ArchiveWriter(Path.Combine(_root, "read")))
        {
            for (int i = 0; i < ReadRecords; i++)
            {
                ArchivedFlow f = _flows[i % Records];
                writer.Append(f.Record, f.ToContext());
            }
        }

        _reader = new ArchiveReader(Path.Combine(_root, "read"));
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _withContext?.Dispose();
        _sink?.Dispose();
        _withContext = _sink = null;
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>One record with its whole context (VM names, tenant, metadata), as <see cref="ArchiveWriter.Append(in FlowRecord, in FlowContext)"/>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public long Write()
    {
        ArchiveWriter writer = _withContext!;
        ArchivedFlow[] flows = _flows;
        for (int i = 0; i < flows.Length; i++)
        {
            FlowContext context = flows[i].ToContext();
            writer.Append(in _records[i], in context);
        }

        return writer.RecordsWritten;
    }

    /// <summary>Records alone through the sink interface, in batches of 128 (a pipeline without extensions).</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long WriteSink()
    {
        ArchiveWriter writer = _sink!;
        for (int i = 0; i < Records; i += 128)
        {
            writer.OnFlows(_records.AsSpan(i, 128));
        }

        return writer.RecordsWritten;
    }

    /// <summary>Every record through a cursor: frames read, checked, decompressed; names from the frame's string table.</summary>
    [Benchmark(OperationsPerInvoke = ReadRecords)]
    public long ReadCursor()
    {
        long sum = 0;
        using ArchiveCursor cursor = _reader!.OpenCursor();
        while (cursor.MoveNext())
        {
            sum += (long)cursor.Record.ForwardBytes + (cursor.SourceVm is null ? 0 : 1);
        }

        return sum;
    }

    /// <summary>Every flow materialised with its context (<see cref="ArchiveReader.Read"/>).</summary>
    [Benchmark(OperationsPerInvoke = ReadRecords)]
    public long ReadFlows()
    {
        long sum = 0;
        foreach (ArchivedFlow f in _reader!.Read())
        {
            sum += (long)f.Record.ForwardBytes + (int)f.App;
        }

        return sum;
    }
}
