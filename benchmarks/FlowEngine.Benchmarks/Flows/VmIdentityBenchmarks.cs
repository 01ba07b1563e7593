// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Flows;

/// <summary>
/// The whole pipeline over the bundled lab capture, flows only against flows with VM identity resolved from the lab's
/// inventory and learned without one, side by side. Reported per frame; none may allocate.
/// </summary>
[MemoryDiagnoser]
public class VmIdentityBenchmarks : IDisposable
{
    private const int LabFrames = 7763;

    private readonly List<PacketBatch> _batches = [];
    private FlowPipeline? _flows;
    private FlowPipeline<VmIdentityExtension>? _inventory;
    private FlowPipeline<VmIdentityExtension>? _learned;
    private FlowPipeline<StartOnlyExtension>? _startOnly;

    [GlobalSetup]
    public void Setup()
    {
        string path = LabCapture.Path;
        _batches.AddRange(Commands.MetadataAbCommand.Load(path, out int frames));
        if (frames != LabFrames)
        {
            throw new InvalidOperationException($"{path} has {frames} frames; set LabFrames to that");
        }

        string inventory = Path.Combine(Path.GetDirectoryName(path)!, "lab-small.inventory.csv");
        var options = new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = 16384 } };
        _flows = new FlowPipeline(new CountingSink(), options);
        _inventory = new FlowPipeline<VmIdentityExtension>(new CountingSink(), options, new VmIdentityExtension(new VmIdentityTable(VmInventory.Load(inventory))));
        _learned = new FlowPipeline<VmIdentityExtension>(new CountingSink(), options, new VmIdentityExtension(new VmIdentityTable()));
        _startOnly = new FlowPipeline<StartOnlyExtension>(new CountingSink(), options, default);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _flows?.Dispose();
        _inventory?.Dispose();
        _learned?.Dispose();
        _startOnly?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Flow records only.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = LabFrames)]
    public long FlowsOnly() => Replay(_flows!);

    /// <summary>An extension that only takes the start hook and does nothing: the cost of the seam itself.</summary>
    [Benchmark(OperationsPerInvoke = LabFrames)]
    public long StartHookOnly() => Replay(_startOnly!);

    /// <summary>Flow records with both ends resolved from the inventory.</summary>
    [Benchmark(OperationsPerInvoke = LabFrames)]
    public long WithInventory() => Replay(_inventory!);

    /// <summary>Flow records with both ends learned (after the first replay every address is known).</summary>
    [Benchmark(OperationsPerInvoke = LabFrames)]
    public long WithLearning() => Replay(_learned!);

    private long Replay<T>(FlowPipeline<T> pipeline)
        where T : struct, IFlowExtension
    {
        foreach (PacketBatch b in _batches)
        {
            pipeline.ProcessBatch(b);
        }

        pipeline.Flush();
        return pipeline.Statistics.PacketsDecoded;
    }

    /// <summary>One mask bit, a start hook that returns at once, no packet or emit hooks.</summary>
    public readonly struct StartOnlyExtension : IFlowExtension
    {
        public int MaskBits => 1;

        public bool WantsPackets => false;

        public bool WantsEmit => false;

        public void Initialize(in FlowExtensionContext context)
        {
        }

        public uint OnStart(int slot, in FlowEngine.Packets.DecodedPacket firstPacket, ReadOnlySpan<byte> frame, bool firstFromOriginator) => 0;

        public uint OnPacket(int slot, uint mask, in FlowEngine.Packets.DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator) => 0;

        public void OnEmit(int slot, int recordIndex, in FlowRecord record)
        {
        }

        public void OnDelivered(int count)
        {
        }
    }
}
