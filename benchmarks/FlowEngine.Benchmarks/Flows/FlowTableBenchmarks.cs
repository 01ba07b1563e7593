// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Flows;

/// <summary>
/// Flow table update per packet over pre-decoded VXLAN packets whose flows are already in the table (the steady
/// state of a sensor), at several table sizes. Reported per packet; must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class FlowTableBenchmarks : IDisposable
{
    private const int PacketsPerInvoke = 16384;
    private DecodedPacket[] _packets = [];
    private FlowTable _table = null!;

    /// <summary>Concurrent flows in the synthetic traffic.</summary>
    [Params(1_000, 100_000)]
    public int Flows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var profile = new TrafficProfile { Flows = Flows, Seed = 3 };
        SyntheticCapture capture = SyntheticTraffic.Generate(profile, Math.Max(PacketsPerInvoke * 4, Flows * 4));
        var decoder = new PacketDecoder();
        var packets = new List<DecodedPacket>(capture.Count);
        for (int i = 0; i < capture.Count; i++)
        {
            DecodedPacket p = default;
            p.TimestampNs = capture.TimestampsNs[i];
            p.WireLength = capture.WireLengths[i];
            if (!decoder.Decode(capture.Data.AsSpan(capture.Offsets[i], capture.Lengths[i]), capture.LinkType, ref p))
            {
                throw new InvalidOperationException($"frame {i} rejected: {p.Reject}");
            }

            packets.Add(p);
        }

        _packets = [.. packets];
        _table = new FlowTable(new FlowTableOptions { MaxFlows = Flows * 2 }, new CountingSink());

        // Warm: every flow of the traffic is in the table before measuring.
        foreach (DecodedPacket p in _packets)
        {
            _table.Update(in p);
        }
    }

    /// <summary>Updates the table with the next <see cref="PacketsPerInvoke"/> packets (same timestamps as warm-up, so nothing expires).</summary>
    [Benchmark(OperationsPerInvoke = PacketsPerInvoke)]
    public int Update()
    {
        int accounted = 0;
        DecodedPacket[] packets = _packets;
        int start = (_cursor + PacketsPerInvoke) % (packets.Length - PacketsPerInvoke);
        _cursor = start;
        for (int i = start; i < start + PacketsPerInvoke; i++)
        {
            if (_table.Update(in packets[i]))
            {
                accounted++;
            }
        }

        return accounted;
    }

    private int _cursor;

    [GlobalCleanup]
    public void Dispose()
    {
        _table?.Dispose();
        GC.SuppressFinalize(this);
    }
}
