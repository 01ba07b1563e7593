// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Flows;
using FlowEngine.Flows.Internal;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Flows;

public class FlowTableTests
{
    private const long Second = 1_000_000_000;
    private static readonly PacketDecoder s_decoder = new();

    private static DecodedPacket Packet(byte[] frame, long ts)
    {
        DecodedPacket p = default;
        p.TimestampNs = ts;
        Assert.True(s_decoder.Decode(frame, LinkType.Ethernet, ref p), p.Reject.ToString());
        return p;
    }

    private static (FlowTable Table, List<FlowRecord> Records) NewTable(FlowTableOptions? options = null)
    {
        var records = new List<FlowRecord>();
        return (new FlowTable(options ?? new FlowTableOptions { MaxFlows = 1024 }, FlowSink.ToList(records)), records);
    }

    [Fact]
    public void Update_TcpHandshakeAndClose_OneBidirectionalFlowWithSf()
    {
        var (table, records) = NewTable();
        long t = 1_700_000_000 * Second;
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.1", "10.0.0.2", 5000, 80, 0x02), t));
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.2", "10.0.0.1", 80, 5000, 0x12), t + 1000));
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.1", "10.0.0.2", 5000, 80, 0x10, 100), t + 2000));
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.1", "10.0.0.2", 5000, 80, 0x11), t + 3000));
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.2", "10.0.0.1", 80, 5000, 0x11), t + 4000));
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.1", "10.0.0.2", 5000, 80, 0x10), t + 5000));
        Assert.Equal(1, table.Count);
        table.Flush();
        FlowRecord r = Assert.Single(records);
        Assert.Equal("10.0.0.1", r.SourceAddress.ToString(4));
        Assert.Equal(5000, r.SourcePort);
        Assert.Equal(80, r.DestinationPort);
        Assert.Equal(4u, r.ForwardPackets);
        Assert.Equal(2u, r.ReversePackets);
        Assert.Equal((ulong)((4 * 40) + 100), r.ForwardBytes);
        Assert.Equal(100ul, r.ForwardPayloadBytes);
        Assert.Equal(ConnectionState.SF, r.State);
        Assert.Equal(VirtualNetworkKind.Vxlan, r.VnKind);
        Assert.Equal(9u, r.VnId);
        Assert.Equal("192.0.2.1", r.OuterSourceAddress.ToString(4));
        Assert.Equal(6, r.FirstPacketCount);
        Assert.Equal(40, r.FirstPackets[0]);
        Assert.Equal(-40, r.FirstPackets[1]);
        Assert.Equal(140, r.FirstPackets[2]);
        Assert.Equal(FlowEndReason.EndOfInput, r.EndReason);
        Assert.Equal(40, r.ForwardSizeMin);
        Assert.Equal(140, r.ForwardSizeMax);
        Assert.Equal(65.0, r.ForwardSizeMean, 9);
        Assert.Equal(2500.0, r.ForwardSizeVariance, 6); // sizes 40,140,40,40: mean 65, sample variance 2500
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Fin, r.ForwardTcpFlags);

        // Originator packets at 0, 2, 3 and 5 microseconds: gaps 2, 1, 2.
        Assert.Equal(5.0 / 3, r.ForwardIatMeanUs, 9);
        Assert.Equal(1.0 / 3, r.ForwardIatVarianceUs2, 9);
        Assert.Equal(1u, r.ForwardIatMinUs);
        Assert.Equal(2u, r.ForwardIatMaxUs);
    }

    [Fact]
    public void Update_InterArrivalMoments_ExactForRandomGaps()
    {
        // Mean and sample variance of the gaps, against a two-pass computation in exact rational arithmetic
        // (decimal holds these sums exactly); Welford's running update in doubles drifts from it.
        var random = new Random(7);
        var (table, records) = NewTable(new FlowTableOptions { UdpIdleTimeout = TimeSpan.FromMinutes(10) });
        byte[] udp = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1000, 53, new byte[20])));
        long t = 1_700_000_000 * Second;
        var gaps = new List<long>();
        table.Update(Packet(udp, t));
        for (int i = 0; i < 500; i++)
        {
            long gapUs = random.Next(2) == 0 ? random.Next(1, 50) : 1_000_000 + random.Next(0, 3);
            gaps.Add(gapUs);
            t += gapUs * 1000;
            table.Update(Packet(udp, t));
        }

        table.Flush();
        FlowRecord r = Assert.Single(records);
        decimal mean = gaps.Sum(g => (decimal)g) / gaps.Count;
        decimal variance = gaps.Sum(g => ((decimal)g - mean) * ((decimal)g - mean)) / (gaps.Count - 1);
        Assert.Equal((double)mean, r.ForwardIatMeanUs, 1e-9 * (double)mean);
        Assert.Equal((double)variance, r.ForwardIatVarianceUs2, 1e-9 * (double)variance);
        Assert.Equal((uint)gaps.Min(), r.ForwardIatMinUs);
        Assert.Equal((uint)gaps.Max(), r.ForwardIatMaxUs);
    }

    [Fact]
    public void Update_InterArrivalMoments_LongestFlowDoesNotOverflow()
    {
        // Gaps of 1 us and just under an hour (the longest active timeout): their squares sum to about 1.3e19, near
        // the top of 64 bits. Mean (1 + g) / 2, sample variance (g - 1)^2 / 2.
        const long G = 3_599_999_998;
        var (table, records) = NewTable(new FlowTableOptions
        {
            ActiveTimeout = TimeSpan.FromHours(1),
            UdpIdleTimeout = TimeSpan.FromHours(1),
        });
        byte[] udp = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1000, 53, new byte[20])));
        long t = 1_700_000_000 * Second;
        table.Update(Packet(udp, t));
        table.Update(Packet(udp, t + 1000));
        table.Update(Packet(udp, t + 1000 + (G * 1000)));
        table.Flush();
        FlowRecord r = Assert.Single(records);
        Assert.Equal(3u, r.ForwardPackets);
        Assert.Equal((1.0 + G) / 2, r.ForwardIatMeanUs);
        Assert.Equal((double)(G - 1) * (G - 1) / 2, r.ForwardIatVarianceUs2, 1e-15 * ((double)G * G));
        Assert.Equal(1u, r.ForwardIatMinUs);
        Assert.Equal((uint)G, r.ForwardIatMaxUs);
    }

    [Fact]
    public void Update_SameAddressesDifferentVni_SeparateFlows()
    {
        var (table, records) = NewTable();
        table.Update(Packet(Frames.VxlanTcp(1, "10.0.0.1", "10.0.0.2", 5000, 80, 0x02), Second));
        table.Update(Packet(Frames.VxlanTcp(2, "10.0.0.1", "10.0.0.2", 5000, 80, 0x02), Second));
        Assert.Equal(2, table.Count);
        table.Flush();
        Assert.Equal(new uint[] { 1, 2 }, records.Select(r => r.VnId).Order().ToArray());
    }

    [Fact]
    public void Update_SynAckSeenFirst_ReceiverIsOriginator()
    {
        var (table, records) = NewTable();
        table.Update(Packet(Frames.VxlanTcp(1, "10.0.0.2", "10.0.0.1", 80, 5000, 0x12), Second));
        table.Update(Packet(Frames.VxlanTcp(1, "10.0.0.1", "10.0.0.2", 5000, 80, 0x10), Second + 10));
        table.Flush();
        FlowRecord r = Assert.Single(records);
        Assert.Equal("10.0.0.1", r.SourceAddress.ToString(4));
        Assert.Equal(1u, r.ForwardPackets);
        Assert.Equal(1u, r.ReversePackets);
    }

    [Fact]
    public void Advance_IdleFlowsExpireByPacketTime()
    {
        var (table, records) = NewTable(new FlowTableOptions { MaxFlows = 64, UdpIdleTimeout = TimeSpan.FromSeconds(10) });
        byte[] udp = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1000, 53, new byte[20])));
        table.Update(Packet(udp, 100 * Second));
        table.Advance(105 * Second);
        Assert.Empty(records);
        table.Advance(112 * Second);
        FlowRecord r = Assert.Single(records);
        Assert.Equal(FlowEndReason.IdleTimeout, r.EndReason);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Update_PacketAfterIdleTimeout_StartsNewFlow()
    {
        var (table, records) = NewTable(new FlowTableOptions { MaxFlows = 64, UdpIdleTimeout = TimeSpan.FromSeconds(10) });
        byte[] udp = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1000, 53, [])));
        table.Update(Packet(udp, 100 * Second));
        table.Update(Packet(udp, 130 * Second));
        Assert.Single(records);
        table.Flush();
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(1u, r.ForwardPackets));
    }

    [Fact]
    public void Update_ActiveTimeout_ReportsAndContinues()
    {
        var (table, records) = NewTable(new FlowTableOptions { MaxFlows = 64, ActiveTimeout = TimeSpan.FromSeconds(60) });
        byte[] udp = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1000, 53, [])));
        for (int i = 0; i < 100; i++)
        {
            table.Update(Packet(udp, (1000 + i) * Second));
        }

        table.Flush();
        Assert.Equal(2, records.Count);
        Assert.Equal(FlowEndReason.ActiveTimeout, records[0].EndReason);
        Assert.False(records[0].IsContinuation);
        Assert.True(records[1].IsContinuation);
        Assert.Equal(100u, records[0].ForwardPackets + records[1].ForwardPackets);
    }

    [Fact]
    public void Update_TableFull_EvictsOldestAndLosesNoPacket()
    {
        var (table, records) = NewTable(new FlowTableOptions { MaxFlows = 64 });
        for (int i = 0; i < 1000; i++)
        {
            byte[] udp = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", $"10.1.{i / 256}.{i % 256}", 17, Frames.Udp(1000, 53, [])));
            Assert.True(table.Update(Packet(udp, (100 * Second) + i)));
        }

        Assert.True(table.Count <= 64);
        table.Flush();
        Assert.Equal(1000, records.Count);
        Assert.Equal(1000ul, (ulong)records.Sum(r => r.ForwardPackets));
        Assert.Equal(1000 - 64, table.Statistics.Evictions);
    }

    [Fact]
    public void Update_ManyFlowsRemovedAndReinserted_LookupsStayCorrect()
    {
        var (table, records) = NewTable(new FlowTableOptions { MaxFlows = 4096, UdpIdleTimeout = TimeSpan.FromSeconds(1) });
        var random = new Random(7);
        long t = 10 * Second;
        int packets = 0;
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < 3000; i++)
            {
                int host = random.Next(5000);
                byte[] udp = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", $"10.2.{host / 256}.{host % 256}", 17, Frames.Udp((ushort)(1000 + (host % 7)), 53, [])));
                Assert.True(table.Update(Packet(udp, t)));
                packets++;
                t += 1000;
            }

            t += 2 * Second;
            table.Advance(t);
            Assert.Equal(0, table.Count);
        }

        table.Flush();
        Assert.Equal((ulong)packets, (ulong)records.Sum(r => r.ForwardPackets));
        Assert.Equal(0, table.Statistics.Evictions);
    }

    [Fact]
    public void Update_FragmentsOfOneDatagram_CountedInItsFlow()
    {
        var (table, records) = NewTable();
        byte[] first = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1000, 2000, new byte[32])[..16], fragment: 0x2000, id: 42, totalLength: 36));
        byte[] second = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, new byte[24], fragment: 0x0002, id: 42));
        byte[] orphan = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, new byte[24], fragment: 0x0002, id: 43));
        Assert.True(table.Update(Packet(first, Second)));
        Assert.True(table.Update(Packet(second, Second + 1)));
        Assert.False(table.Update(Packet(orphan, Second + 2)));
        table.Flush();
        FlowRecord r = Assert.Single(records);
        Assert.Equal(2u, r.ForwardPackets);
        Assert.Equal(2000, r.DestinationPort);
        Assert.Equal(1, table.Statistics.UnmatchedFragments);
    }

    [Fact]
    public void BytesPerFlow_AtMost256()
    {
        var (table, _) = NewTable(new FlowTableOptions { MaxFlows = 1_000_000 });
        Assert.True(table.BytesPerFlow <= 256, $"{table.BytesPerFlow} bytes per flow");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Flush_OuterAddressesInOriginatorDirection_IPv4AndIPv6Underlays(bool synAckFirst)
    {
        // An IPv4 underlay's pair is kept in the slot, an IPv6 one is interned: both come back oriented like the
        // inner addresses (a SYN-ACK seen first answers the other side, which is the originator).
        var (table, records) = NewTable();
        long t = 1_700_000_000 * Second;
        byte[] Inner(string src, string dst, ushort sport, ushort dport, byte flags)
            => Frames.Ethernet(0x0800, Frames.IPv4(src, dst, 6, Frames.Tcp(sport, dport, flags, [])));
        byte[] V4(string src, string dst, byte[] inner)
            => Frames.Ethernet(0x0800, Frames.IPv4(src, dst, 17, Frames.Udp(49152, 4789, Frames.Vxlan(7, inner))));
        byte[] V6(string src, string dst, byte[] inner)
            => Frames.Ethernet(0x86DD, Frames.IPv6(src, dst, 17, Frames.Udp(49152, 4789, Frames.Vxlan(8, inner))));
        byte first = synAckFirst ? (byte)0x12 : (byte)0x02;
        string client = "10.1.0.1", server = "10.1.0.2";
        (string From, string To) hv4 = synAckFirst ? ("198.51.100.2", "198.51.100.1") : ("198.51.100.1", "198.51.100.2");
        (string From, string To) hv6 = synAckFirst ? ("2001:db8::2", "2001:db8::1") : ("2001:db8::1", "2001:db8::2");
        (string From, string To) inner = synAckFirst ? (server, client) : (client, server);
        (ushort From, ushort To) ports = synAckFirst ? ((ushort)443, (ushort)40000) : ((ushort)40000, (ushort)443);
        table.Update(Packet(V4(hv4.From, hv4.To, Inner(inner.From, inner.To, ports.From, ports.To, first)), t));
        table.Update(Packet(V4(hv4.To, hv4.From, Inner(inner.To, inner.From, ports.To, ports.From, 0x10)), t + 1000));
        table.Update(Packet(V6(hv6.From, hv6.To, Inner(inner.From, inner.To, ports.From, ports.To, first)), t + 2000));
        table.Update(Packet(V6(hv6.To, hv6.From, Inner(inner.To, inner.From, ports.To, ports.From, 0x10)), t + 3000));
        table.Flush();

        Assert.Equal(2, records.Count);
        FlowRecord v4 = Assert.Single(records, r => r.VnId == 7);
        FlowRecord v6 = Assert.Single(records, r => r.VnId == 8);
        Assert.Equal((client, server), (v4.SourceAddress.ToString(4), v4.DestinationAddress.ToString(4)));
        Assert.Equal(4, v4.OuterIpVersion);
        Assert.Equal(("198.51.100.1", "198.51.100.2"), (v4.OuterSourceAddress.ToString(4), v4.OuterDestinationAddress.ToString(4)));
        Assert.Equal((client, server), (v6.SourceAddress.ToString(4), v6.DestinationAddress.ToString(4)));
        Assert.Equal(6, v6.OuterIpVersion);
        Assert.Equal(("2001:db8::1", "2001:db8::2"), (v6.OuterSourceAddress.ToString(6), v6.OuterDestinationAddress.ToString(6)));
    }

    [Fact]
    public void FlowEntry_IsThreeWholeCacheLines()
    {
        // A known flow's packet touches its bucket's tags and exactly these lines; 8-byte counters never straddle.
        Assert.Equal(192, Unsafe.SizeOf<FlowEntry>());
        Assert.Equal(56, Unsafe.SizeOf<DirectionCounters>());
        FlowEntry entry = default;
        Assert.Equal(64, (int)Unsafe.ByteOffset(ref Unsafe.As<FlowEntry, byte>(ref entry), ref Unsafe.As<DirectionCounters, byte>(ref entry.State.Forward)));
        Assert.Equal(128, (int)Unsafe.ByteOffset(ref Unsafe.As<FlowEntry, byte>(ref entry), ref Unsafe.As<DirectionCounters, byte>(ref entry.State.Reverse)));
    }

    [Fact]
    public void UpdateBatch_SameRecordsInSameOrderAsUpdate()
    {
        var random = new Random(11);
        var packets = new List<DecodedPacket>();
        long t = 50 * Second;
        for (int i = 0; i < 5000; i++)
        {
            int host = random.Next(300);
            byte flags = (byte)(random.Next(4) switch { 0 => 0x02, 1 => 0x12, 2 => 0x11, _ => 0x10 });
            byte[] frame = random.Next(10) == 0
                ? Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", $"10.3.0.{host % 200}", 17, new byte[24], fragment: 0x0002, id: (ushort)host))
                : Frames.VxlanTcp((uint)(host % 3), $"10.0.{host % 5}.1", $"10.1.{host % 7}.2", (ushort)(1000 + host), 443, flags, random.Next(3) * 100);
            packets.Add(Packet(frame, t));
            t += random.Next(5) == 0 ? 3 * Second : 1000;
        }

        var options = new FlowTableOptions { MaxFlows = 128, TcpIdleTimeout = TimeSpan.FromSeconds(20) };
        var (single, singleRecords) = NewTable(options);
        var (batched, batchedRecords) = NewTable(options);
        int accountedSingle = 0, accountedBatched = 0;
        DecodedPacket[] array = [.. packets];
        for (int start = 0; start < array.Length; start += 37)
        {
            ReadOnlySpan<DecodedPacket> chunk = array.AsSpan(start, Math.Min(37, array.Length - start));
            foreach (DecodedPacket p in chunk)
            {
                accountedSingle += single.Update(in p) ? 1 : 0;
            }

            accountedBatched += batched.UpdateBatch(chunk);
            single.Advance(chunk[^1].TimestampNs);
            batched.Advance(chunk[^1].TimestampNs);
        }

        single.Flush();
        batched.Flush();
        Assert.Equal(accountedSingle, accountedBatched);
        Assert.True(singleRecords.Count > 300, $"{singleRecords.Count} records");
        Assert.Equal(singleRecords.Count, batchedRecords.Count);
        for (int i = 0; i < singleRecords.Count; i++)
        {
            FlowRecord a = singleRecords[i], b = batchedRecords[i];
            Assert.True(
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<FlowRecord>(ref a)).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<FlowRecord>(ref b))),
                $"record {i} differs");
        }
    }

    [Fact]
    public void Advance_ClosedTcpFlow_EndsAfterLingerNotIdleTimeout()
    {
        var (table, records) = NewTable(new FlowTableOptions { MaxFlows = 64, TcpCloseLinger = TimeSpan.FromSeconds(5) });
        long t = 1000 * Second;
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.1", "10.0.0.2", 5000, 80, 0x02), t));
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.2", "10.0.0.1", 80, 5000, 0x12), t + 1000));
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.1", "10.0.0.2", 5000, 80, 0x11), t + 2000));
        table.Update(Packet(Frames.VxlanTcp(9, "10.0.0.2", "10.0.0.1", 80, 5000, 0x11), t + 3000));
        byte[] rst = Frames.VxlanTcp(9, "10.0.0.3", "10.0.0.2", 5001, 80, 0x04);
        table.Update(Packet(rst, t + 4000));
        table.Advance(t + (4 * Second));
        Assert.Empty(records);
        table.Advance(t + (7 * Second));
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(FlowEndReason.TcpEnd, r.EndReason));
        Assert.Contains(records, r => r.State == ConnectionState.SF);
        Assert.Equal(0, table.Count);
    }
}
