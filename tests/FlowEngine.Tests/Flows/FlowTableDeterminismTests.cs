// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Flows;

/// <summary>Records must not depend on the hash seed: the seed only decides where flows sit in the table.</summary>
public class FlowTableDeterminismTests
{
    private const long Second = 1_000_000_000;

    // Many more flows than the table holds, interleaved, some long-lived, with fragmented datagrams: the table is full
    // for most of the run, so eviction decides records, and the fragment cache overflows.
    private static List<DecodedPacket> Traffic(int flows, int packets, int seed)
    {
        var decoder = new PacketDecoder();
        var random = new Random(seed);
        var result = new List<DecodedPacket>(packets);
        long t = 1_700_000_000 * Second;
        for (int i = 0; i < packets; i++)
        {
            // A Zipf-like skew: low flow numbers recur, high ones appear once or twice.
            int flow = (int)(flows * Math.Pow(random.NextDouble(), 3));
            string src = $"10.{flow >> 16 & 255}.{flow >> 8 & 255}.{flow & 255}";
            bool reverse = random.Next(3) == 0;
            byte[] frame;
            if (flow % 97 == 0)
            {
                // A fragmented UDP datagram: its first fragment, then (maybe) a later one; ids repeat across flows.
                ushort id = (ushort)random.Next(6000);
                byte[] first = Frames.IPv4(src, "192.168.1.1", 17, Frames.Udp(4000, 53, new byte[24]), fragment: 0x2000, id: id);
                byte[] later = Frames.IPv4(src, "192.168.1.1", 17, new byte[16], fragment: 4, id: id);
                frame = Frames.Ethernet(0x0800, random.Next(2) == 0 ? first : later);
            }
            else
            {
                frame = reverse
                    ? Frames.VxlanTcp((uint)(flow % 3), "172.16.0.9", src, 443, (ushort)(1024 + (flow % 50000)), 0x10, random.Next(0, 200))
                    : Frames.VxlanTcp((uint)(flow % 3), src, "172.16.0.9", (ushort)(1024 + (flow % 50000)), 443, (byte)(random.Next(20) == 0 ? 0x11 : 0x10), random.Next(0, 200));
            }

            t += random.Next(1, 2_000_000);
            DecodedPacket p = default;
            p.TimestampNs = t;
            Assert.True(decoder.Decode(frame, LinkType.Ethernet, ref p), p.Reject.ToString());
            result.Add(p);
        }

        return result;
    }

    private static (byte[] Bytes, FlowTableStatistics Statistics) Run(List<DecodedPacket> packets, uint seed, int maxFlows, bool batched)
    {
        var records = new List<FlowRecord>();
        using var table = new FlowTable(new FlowTableOptions { MaxFlows = maxFlows, HashSeed = seed, UdpIdleTimeout = TimeSpan.FromSeconds(30) }, FlowSink.ToList(records));
        Assert.Equal(seed, table.HashSeed);
        ReadOnlySpan<DecodedPacket> all = CollectionsMarshal.AsSpan(packets);
        for (int i = 0; i < all.Length; i += 100)
        {
            ReadOnlySpan<DecodedPacket> chunk = all.Slice(i, Math.Min(100, all.Length - i));
            if (batched)
            {
                table.UpdateBatch(chunk);
            }
            else
            {
                foreach (ref readonly DecodedPacket p in chunk)
                {
                    table.Update(in p);
                }
            }

            table.Advance(chunk[^1].TimestampNs);
        }

        table.Flush();
        return (MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(records)).ToArray(), table.Statistics);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(4096)]
    public void Records_FullTableAndTwoSeeds_ByteIdentical(int maxFlows)
    {
        List<DecodedPacket> packets = Traffic(flows: 40_000, packets: 60_000, seed: maxFlows);
        (byte[] a, FlowTableStatistics sa) = Run(packets, seed: 1, maxFlows, batched: true);
        (byte[] b, FlowTableStatistics sb) = Run(packets, seed: 0x9E3779B9, maxFlows, batched: true);
        (byte[] c, _) = Run(packets, seed: 0xDEADBEEF, maxFlows, batched: false);

        // The table was full (evictions decided records) and fragments both matched and missed.
        Assert.True(sa.Evictions > 1000, $"{sa.Evictions} evictions");
        Assert.True(sa.UnmatchedFragments > 0, "no unmatched fragment");
        Assert.Equal(sa, sb);
        Assert.True(a.AsSpan().SequenceEqual(b), "records differ between seeds 1 and 0x9E3779B9");
        Assert.True(a.AsSpan().SequenceEqual(c), "records differ between seed 1 (batched) and 0xDEADBEEF (one by one)");
    }

    [Fact]
    public void HashSeed_Unset_SameForEveryTableOfTheProcess()
    {
        using var a = new FlowTable(new FlowTableOptions(), FlowSink.ToList([]));
        using var b = new FlowTable(new FlowTableOptions(), FlowSink.ToList([]));
        Assert.Equal(a.HashSeed, b.HashSeed);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1000)]
    [InlineData(1_000_000)]
    public void Capacity_KeepsOneSlotInSixteenFree(int maxFlows)
    {
        using var table = new FlowTable(new FlowTableOptions { MaxFlows = maxFlows }, FlowSink.ToList([]));
        Assert.True(table.Capacity * 15L >= maxFlows * 16L, $"capacity {table.Capacity} for {maxFlows}");
        Assert.Equal(0, table.Capacity % 8);
        Assert.True(table.Capacity < (maxFlows * 16L / 15) + 16, $"capacity {table.Capacity} for {maxFlows}");
    }
}
