// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Detection;
using FlowEngine.Mitigation;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Mitigation;

/// <summary>
/// The decision alone, per packet, over 256 decoded packets of 64 flows: the inline handler admitting from a slot's
/// <see cref="FlowAction.Shape"/> mark, the inline handler with nothing in force, and a <see cref="MitigationTable"/>
/// flow rule found by dictionary lookup. Isolates the per-packet cost that <see cref="InlineMitigationBenchmarks"/>
/// measures inside the whole pipeline. None may allocate.
/// </summary>
[MemoryDiagnoser]
public class InlineVerdictBenchmarks : IDisposable
{
    private const int Packets = 256;
    private const int FlowCount = 64;
    private readonly DecodedPacket[] _packets = new DecodedPacket[Packets];
    private readonly uint[] _marks = new uint[FlowCount];
    private InlineMitigationHandler _empty = null!;
    private InlineMitigationHandler _shaped = null!;
    private MitigationTable _table = null!;

    [GlobalSetup]
    public void Setup()
    {
        IpAddress vm = IpAddress.From(System.Net.IPAddress.Parse("10.1.0.5"));
        IpAddress peer = IpAddress.From(System.Net.IPAddress.Parse("203.0.113.9"));
        _empty = new InlineMitigationHandler();
        _shaped = new InlineMitigationHandler();
        _table = new MitigationTable();
        for (int flow = 0; flow < FlowCount; flow++)
        {
            var identity = new FlowIdentity(VirtualNetworkId.None, 4, 17, vm, (ushort)(40000 + flow), peer, 443, 0);
            var action = MitigationRequest.ShapeFlow(identity, ShapeRate.Packets(1_000_000_000_000, 1_000_000_000_000_000));
            _shaped.Apply(action);
            _table.SetFlow(FlowSelector.Ports(17, vm, (ushort)(40000 + flow), peer, 443), MitigationRule.RateLimit(1e12, int.MaxValue));
        }

        for (int i = 0; i < Packets; i++)
        {
            int flow = i % FlowCount;
            _packets[i] = new DecodedPacket
            {
                IpVersion = 4,
                Protocol = 17,
                Source = vm,
                Destination = peer,
                SourcePort = (ushort)(40000 + flow),
                DestinationPort = 443,
                WireLength = 100,
                TimestampNs = 1_000_000_000L + i,
            };

            // The first packet of each flow finds its bucket and marks the slot (here: the flow's entry of _marks).
            if (_shaped.Decide(in _packets[i], ref _marks[flow]) != PacketVerdict.Forward || (FlowAction)(byte)_marks[flow] != FlowAction.Shape)
            {
                throw new InvalidOperationException("setup: the flow was not marked");
            }
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _empty?.Dispose();
        _shaped?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The inline handler, nothing in force (an unmarked packet: the rule snapshot is empty).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Packets)]
    public int NoRules()
    {
        int forwarded = 0;
        uint mark = 0;
        for (int i = 0; i < Packets; i++)
        {
            forwarded += _empty.Decide(in _packets[i], ref mark) == PacketVerdict.Forward ? 1 : 0;
        }

        return forwarded;
    }

    /// <summary>A shaped flow: the bucket from the slot's mark, no lookup.</summary>
    [Benchmark(OperationsPerInvoke = Packets)]
    public int ShapedFromMark()
    {
        int forwarded = 0;
        for (int i = 0; i < Packets; i++)
        {
            forwarded += _shaped.Decide(in _packets[i], ref _marks[i % FlowCount]) == PacketVerdict.Forward ? 1 : 0;
        }

        return forwarded;
    }

    /// <summary>A flow rule looked up per packet (<see cref="MitigationTable"/>).</summary>
    [Benchmark(OperationsPerInvoke = Packets)]
    public int FlowRuleLookup()
    {
        int forwarded = 0;
        for (int i = 0; i < Packets; i++)
        {
            forwarded += _table.Decide(in _packets[i]) == PacketVerdict.Forward ? 1 : 0;
        }

        return forwarded;
    }
}
