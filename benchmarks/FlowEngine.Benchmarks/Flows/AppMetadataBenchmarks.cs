// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.AppLayer;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Flows;

/// <summary>
/// The whole pipeline over the bundled lab capture (samples/data/lab-small.pcapng: the lab's mix of DNS, HTTP, TLS,
/// SSH and attack traffic on a VXLAN underlay), flows only against flows with the application metadata extension, side
/// by side. Reported per frame; neither may allocate.
/// </summary>
[MemoryDiagnoser]
public class AppMetadataBenchmarks : IDisposable
{
    // Frames of samples/data/lab-small.pcapng (checked in Setup): BenchmarkDotNet needs the count as a constant.
    private const int LabFrames = 7763;

    private readonly List<PacketBatch> _batches = [];
    private int _frames;
    private FlowPipeline? _flows;
    private FlowPipeline<AppMetadataExtension>? _metadata;

    /// <summary>Frames per operation count (set up from the capture).</summary>
    public int Frames => _frames;

    [GlobalSetup]
    public void Setup()
    {
        string path = LabCapture.Path;
        _batches.AddRange(Commands.MetadataAbCommand.Load(path, out _frames));

        if (_frames != LabFrames)
        {
            throw new InvalidOperationException($"{path} has {_frames} frames; set LabFrames to that");
        }

        // One pipeline per side for the whole run: each operation replays the capture and flushes, so its flows
        // are created, fed and emitted every time on warm tables and pools. (Packet time does not go back: a replay
        // sees no idle expiry before its flush, on both sides alike.)
        var options = new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = 16384 } };
        _flows = new FlowPipeline(new CountingSink(), options);
        _metadata = new FlowPipeline<AppMetadataExtension>(new CountingSink(), options, new AppMetadataExtension(new AppMetadataTable()));
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _flows?.Dispose();
        _metadata?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Flow records only.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = LabFrames)]
    public long FlowsOnly()
    {
        foreach (PacketBatch b in _batches)
        {
            _flows!.ProcessBatch(b);
        }

        _flows!.Flush();
        return _flows.Statistics.PacketsDecoded;
    }

    /// <summary>Flow records with DNS, HTTP, TLS and SSH metadata.</summary>
    [Benchmark(OperationsPerInvoke = LabFrames)]
    public long WithMetadata()
    {
        foreach (PacketBatch b in _batches)
        {
            _metadata!.ProcessBatch(b);
        }

        _metadata!.Flush();
        return _metadata.Statistics.PacketsDecoded;
    }
}

/// <summary>The bundled lab capture, found above the benchmark's binaries.</summary>
internal static class LabCapture
{
    public static string Path
    {
        get
        {
            for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                string candidate = System.IO.Path.Combine(d.FullName, "samples", "data", "lab-small.pcapng");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException("samples/data/lab-small.pcapng not found above " + AppContext.BaseDirectory);
        }
    }
}

/// <summary>The bundled lab capture's flow records, each with its VMs from the lab's inventory, in emission order.</summary>
internal static class LabFlowRecords
{
    public static (List<FlowRecord> Records, List<VmIdentity> Identities) Load()
    {
        string path = LabCapture.Path;
        var vms = new VmIdentityTable(VmInventory.Load(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, "lab-small.inventory.csv")));
        var collect = new Collect(vms);
        using CaptureFileReader reader = CaptureFile.Open(path);
        using var pipeline = new FlowPipeline<VmIdentityExtension>(collect, new FlowPipelineOptions(), new VmIdentityExtension(vms));
        pipeline.Run(reader);
        return (collect.Records, collect.Identities);
    }

    private sealed class Collect(VmIdentityTable vms) : IFlowSink
    {
        public List<FlowRecord> Records { get; } = [];

        public List<VmIdentity> Identities { get; } = [];

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                Records.Add(records[i]);
                Identities.Add(vms.ForRecord(i));
            }
        }

        public void Flush()
        {
        }

        public void Complete()
        {
        }
    }
}
