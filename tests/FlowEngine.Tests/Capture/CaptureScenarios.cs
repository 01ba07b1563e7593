// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Capture;

/// <summary>Generated captures with the packets a reader must return from them.</summary>
internal sealed class CaptureScenario
{
    public required byte[] Bytes { get; init; }

    public required List<TestPacket> Packets { get; init; }

    /// <summary>For each packet, the offset where its record or block ends.</summary>
    public required List<int> PacketEnds { get; init; }

    /// <summary>Offsets where a record or block ends (a cut there is a clean end of file).</summary>
    public required List<int> Boundaries { get; init; }

    public static byte[] RandomBytes(Random random, int length)
    {
        var data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    /// <summary>A pcap file; timestamps are whole microseconds unless <paramref name="nanosecond"/>.</summary>
    public static CaptureScenario Pcap(bool nanosecond, bool bigEndian, int count = 40, int seed = 1, int bigPacketBytes = 9000, int maxPacketBytes = 1600)
    {
        var random = new Random(seed);
        var packets = new List<TestPacket>();
        long ts = 1_700_000_000_000_000_000 + random.NextInt64(1_000_000_000);
        for (int i = 0; i < count; i++)
        {
            int length = i switch
            {
                0 => 0,
                5 => bigPacketBytes,
                _ => random.Next(1, maxPacketBytes),
            };
            int wire = i % 7 == 3 ? length + random.Next(1, 5000) : length;
            ts += random.NextInt64(1, 2_000_000_000);
            long written = nanosecond ? ts : ts / 1000 * 1000;
            packets.Add(new TestPacket(RandomBytes(random, length), wire, written, LinkType.Ethernet, 0));
        }

        List<int> ends = TestPcapWriter.RecordEnds(packets);
        return new CaptureScenario
        {
            Bytes = TestPcapWriter.Write(packets, LinkType.Ethernet, nanosecond, bigEndian),
            Packets = packets,
            PacketEnds = ends.Skip(1).ToList(),
            Boundaries = ends,
        };
    }

    /// <summary>
    /// Two sections: the first little-endian with an Ethernet interface (10^-9 s) and a raw-IP one (2^-20 s, offset
    /// 100 s, snaplen 128) and enhanced, simple and obsolete packet blocks between skipped blocks; the second
    /// big-endian with one Linux SLL interface (default microseconds, snaplen 64).
    /// </summary>
    public static CaptureScenario PcapNg(int seed = 2, int bigPacketBytes = 9000, int extraPackets = 20)
    {
        var random = new Random(seed);
        var writer = new TestPcapNgWriter();
        var packets = new List<TestPacket>();
        var ends = new List<int>();

        void Add(TestPacket packet)
        {
            packets.Add(packet);
            ends.Add(writer.BlockEnds[^1]);
        }

        writer.Section(bigEndian: false)
            .Interface(LinkType.Ethernet, tsresol: 9)
            .Other(4, 10)
            .Interface(LinkType.Raw, snapLength: 128, tsresol: 0x80 | 20, tsoffsetSeconds: 100);

        byte[] data = RandomBytes(random, 60);
        writer.Enhanced(0, 1_700_000_000_123_456_789, data, 60);
        Add(new TestPacket(data, 60, 1_700_000_000_123_456_789, LinkType.Ethernet, 0));

        ulong binaryTicks = (1_700_000_000UL << 20) + 12345;
        data = RandomBytes(random, 101);
        writer.Enhanced(1, binaryTicks, data, 1500, withOption: true);
        Add(new TestPacket(data, 1500, BinaryNs(binaryTicks, 20) + 100_000_000_000, LinkType.Raw, 1));

        data = RandomBytes(random, 201);
        writer.Simple(data, 201);
        Add(new TestPacket(data, 201, 0, LinkType.Ethernet, 0));

        // Original length beyond the block: captured length is the padded block data (interface 0 has no snaplen).
        data = RandomBytes(random, 200);
        writer.Simple(data, 300);
        Add(new TestPacket(data, 300, 0, LinkType.Ethernet, 0));

        data = RandomBytes(random, 50);
        writer.Obsolete(1, binaryTicks + (1 << 20), data, 50);
        Add(new TestPacket(data, 50, BinaryNs(binaryTicks + (1 << 20), 20) + 100_000_000_000, LinkType.Raw, 1));

        writer.Other(5, 20).Other(0x40000BAD, 7);

        data = RandomBytes(random, bigPacketBytes);
        writer.Enhanced(0, 1_700_000_001_000_000_000, data, bigPacketBytes);
        Add(new TestPacket(data, bigPacketBytes, 1_700_000_001_000_000_000, LinkType.Ethernet, 0));

        for (int i = 0; i < extraPackets; i++)
        {
            int iface = i % 2;
            data = RandomBytes(random, random.Next(0, 300));
            ulong ticks = iface == 0 ? 1_700_000_002_000_000_000UL + (ulong)i : binaryTicks + (ulong)(i << 10);
            writer.Enhanced(iface, ticks, data, data.Length + 4);
            long ns = iface == 0 ? (long)ticks : BinaryNs(ticks, 20) + 100_000_000_000;
            Add(new TestPacket(data, data.Length + 4, ns, iface == 0 ? LinkType.Ethernet : LinkType.Raw, iface));
        }

        writer.Section(bigEndian: true).Interface(LinkType.LinuxSll, snapLength: 64);
        data = RandomBytes(random, 60);
        writer.Enhanced(0, 1_600_000_000_000_001, data, 60);
        Add(new TestPacket(data, 60, 1_600_000_000_000_001_000, LinkType.LinuxSll, 0));

        data = RandomBytes(random, 500);
        writer.Simple(data, 1000);
        Add(new TestPacket(data[..64], 1000, 0, LinkType.LinuxSll, 0));

        writer.Other(5, 12);
        var boundaries = new List<int> { 0 };
        boundaries.AddRange(writer.BlockEnds);
        return new CaptureScenario { Bytes = writer.ToArray(), Packets = packets, PacketEnds = ends, Boundaries = boundaries };
    }

    /// <summary>ticks * 2^-shift seconds in nanoseconds, rounded down.</summary>
    public static long BinaryNs(ulong ticks, int shift) => (long)(new BigInteger(ticks) * 1_000_000_000 >> shift);
}
