// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Capture;
using FlowEngine.Detection;
using FlowEngine.Mitigation;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Mitigation;

/// <summary>
/// The inline path with mitigation: one batch of 256 UDP frames over 64 running flows through
/// <see cref="FlowPipeline{TExtension}.ProcessInlineBatch"/>, with no rule, with every flow shaped from its slot's
/// mark (<see cref="FlowAction.Shape"/>, the inline handler), and with every flow rate-limited by a flow rule of a
/// <see cref="MitigationTable"/> (a dictionary lookup per packet), against plain accounting. Reported per frame; the
/// difference to <see cref="InlineNoRules"/> is the per-packet cost of the decision. None may allocate.
/// </summary>
[MemoryDiagnoser]
public class InlineMitigationBenchmarks : IDisposable
{
    private const int Frames = 256;
    private const int FlowCount = 64;
    private readonly PacketVerdict[] _verdicts = new PacketVerdict[Frames];
    private PacketBatch _batch = null!;
    private FlowPipeline _plain = null!;
    private FlowPipeline _empty = null!;
    private FlowPipeline _shaped = null!;
    private FlowPipeline _lookup = null!;
    private InlineMitigationHandler _emptyHandler = null!;
    private InlineMitigationHandler _shapedHandler = null!;
    private MitigationTable _table = null!;

    [GlobalSetup]
    public void Setup()
    {
        _batch = new PacketBatch(Frames, copyArenaBytes: Frames * 128);
        Span<byte> frame = stackalloc byte[14 + 20 + 8 + 58];
        for (int i = 0; i < Frames; i++)
        {
            int flow = i % FlowCount;
            int n = FrameBuilder.WriteEthernet(frame, 0x020000000002, 0x020000000001, 0, 0x0800);
            n += FrameBuilder.WriteIPv4(frame[n..], 0x0A010005, 0xCB007109, 17, 20 + 8 + 58, (ushort)i, 64);
            n += FrameBuilder.WriteUdp(frame[n..], (ushort)(40000 + flow), 443, 8 + 58);
            frame[n..].Clear();
            if (!_batch.TryAppendCopy(frame, frame.Length, 1_000_000_000L + i, LinkType.Ethernet))
            {
                throw new InvalidOperationException("batch full");
            }
        }

        var options = new FlowPipelineOptions { BatchSize = Frames };
        _plain = new FlowPipeline(new CountingSink(), options);
        _empty = new FlowPipeline(new CountingSink(), options);
        _shaped = new FlowPipeline(new CountingSink(), options);
        _lookup = new FlowPipeline(new CountingSink(), options);
        _emptyHandler = new InlineMitigationHandler();
        _shapedHandler = new InlineMitigationHandler();
        _table = new MitigationTable();
        IpAddress vm = IpAddress.From(System.Net.IPAddress.Parse("10.1.0.5"));
        IpAddress peer = IpAddress.From(System.Net.IPAddress.Parse("203.0.113.9"));
        for (int flow = 0; flow < FlowCount; flow++)
        {
            // Rates far above what the benchmark offers: every packet is admitted, so every invocation does the same work.
            var identity = new FlowIdentity(VirtualNetworkId.None, 4, 17, vm, (ushort)(40000 + flow), peer, 443, 0);
            _shapedHandler.Apply(MitigationRequest.ShapeFlow(identity, ShapeRate.Packets(1_000_000_000_000, 1_000_000_000_000_000)));
            _table.SetFlow(FlowSelector.Ports(17, vm, (ushort)(40000 + flow), peer, 443), MitigationRule.RateLimit(1e12, int.MaxValue));
        }

        // Warm: the flows exist and the shaped ones carry their marks.
        _plain.ProcessBatch(_batch);
        _empty.ProcessInlineBatch(_batch, _emptyHandler, _verdicts);
        _shaped.ProcessInlineBatch(_batch, _shapedHandler, _verdicts);
        _lookup.ProcessInlineBatch(_batch, _table, _verdicts);
        if (_verdicts.Any(v => v != PacketVerdict.Forward))
        {
            throw new InvalidOperationException("the benchmark's rules must admit every packet");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _plain?.Dispose();
        _empty?.Dispose();
        _shaped?.Dispose();
        _lookup?.Dispose();
        _emptyHandler?.Dispose();
        _shapedHandler?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Decode and flow accounting only (<see cref="FlowPipeline{TExtension}.ProcessBatch"/>).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Frames)]
    public long AccountingOnly()
    {
        _plain.ProcessBatch(_batch);
        return _plain.Statistics.PacketsDecoded;
    }

    /// <summary>The inline path with the inline handler and no action in force.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public PacketVerdict InlineNoRules()
    {
        _empty.ProcessInlineBatch(_batch, _emptyHandler, _verdicts);
        return _verdicts[Frames - 1];
    }

    /// <summary>Every flow shaped: the bucket found from the slot's mark, no lookup.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public PacketVerdict InlineShapedFromSlot()
    {
        _shaped.ProcessInlineBatch(_batch, _shapedHandler, _verdicts);
        return _verdicts[Frames - 1];
    }

    /// <summary>Every flow rate-limited by a flow rule looked up per packet (<see cref="MitigationTable"/>), for comparison.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public PacketVerdict InlineFlowRuleLookup()
    {
        _lookup.ProcessInlineBatch(_batch, _table, _verdicts);
        return _verdicts[Frames - 1];
    }
}
