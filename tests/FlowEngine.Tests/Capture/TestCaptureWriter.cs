// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Capture;

/// <summary>Writes pcap files for tests, in either byte order and timestamp precision.</summary>
internal static class TestPcapWriter
{
    public static byte[] Write(IReadOnlyList<TestPacket> packets, LinkType linkType, bool nanosecond, bool bigEndian, uint snapLength = 262144)
    {
        var output = new List<byte>();
        Put32(output, nanosecond ? 0xa1b23c4du : 0xa1b2c3d4u, bigEndian);
        Put16(output, 2, bigEndian);
        Put16(output, 4, bigEndian);
        Put32(output, 0, bigEndian);
        Put32(output, 0, bigEndian);
        Put32(output, snapLength, bigEndian);

        // Upper bits of the network field carry FCS information; readers take the low 16 bits.
        Put32(output, (uint)linkType | 0x1000_0000u, bigEndian);
        foreach (TestPacket packet in packets)
        {
            long seconds = packet.TimestampNs / 1_000_000_000;
            long fraction = packet.TimestampNs % 1_000_000_000;
            Put32(output, (uint)seconds, bigEndian);
            Put32(output, (uint)(nanosecond ? fraction : fraction / 1000), bigEndian);
            Put32(output, (uint)packet.Data.Length, bigEndian);
            Put32(output, (uint)packet.WireLength, bigEndian);
            output.AddRange(packet.Data);
        }

        return [.. output];
    }

    /// <summary>Offsets where each record ends (the first is the end of the file header).</summary>
    public static List<int> RecordEnds(IReadOnlyList<TestPacket> packets)
    {
        var ends = new List<int> { 24 };
        foreach (TestPacket packet in packets)
        {
            ends.Add(ends[^1] + 16 + packet.Data.Length);
        }

        return ends;
    }

    internal static void Put16(List<byte> output, ushort value, bool bigEndian)
    {
        Span<byte> bytes = stackalloc byte[2];
        if (bigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        }

        output.AddRange(bytes);
    }

    internal static void Put32(List<byte> output, uint value, bool bigEndian)
    {
        Span<byte> bytes = stackalloc byte[4];
        if (bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        }

        output.AddRange(bytes);
    }
}

/// <summary>Builds pcapng files block by block for tests; records where each block ends.</summary>
internal sealed class TestPcapNgWriter
{
    private readonly List<byte> _output = [];
    private bool _bigEndian;

    /// <summary>Offsets where each block ends.</summary>
    public List<int> BlockEnds { get; } = [];

    public byte[] ToArray() => [.. _output];

    public TestPcapNgWriter Section(bool bigEndian)
    {
        _bigEndian = bigEndian;
        var body = new List<byte>();
        Put32(body, 0x1A2B3C4D);
        Put16(body, 1);
        Put16(body, 0);
        Put32(body, 0xffffffff);
        Put32(body, 0xffffffff);
        return Block(0x0A0D0D0A, body);
    }

    /// <summary>Interface Description Block with optional if_tsresol and if_tsoffset (and a comment option to skip).</summary>
    public TestPcapNgWriter Interface(LinkType linkType, uint snapLength = 0, byte? tsresol = null, long? tsoffsetSeconds = null)
    {
        var body = new List<byte>();
        Put16(body, (ushort)linkType);
        Put16(body, 0);
        Put32(body, snapLength);
        Option(body, 1, "nic"u8);
        if (tsresol is { } resolution)
        {
            Option(body, 9, [resolution]);
        }

        if (tsoffsetSeconds is { } offset)
        {
            var value = new List<byte>();
            Put32(value, _bigEndian ? (uint)(offset >> 32) : (uint)offset);
            Put32(value, _bigEndian ? (uint)offset : (uint)(offset >> 32));
            Option(body, 14, [.. value]);
        }

        Option(body, 0, []);
        return Block(1, body);
    }

    public TestPcapNgWriter Enhanced(int interfaceId, ulong ticks, byte[] data, int wireLength, bool withOption = false)
    {
        var body = new List<byte>();
        Put32(body, (uint)interfaceId);
        Put32(body, (uint)(ticks >> 32));
        Put32(body, (uint)ticks);
        Put32(body, (uint)data.Length);
        Put32(body, (uint)wireLength);
        body.AddRange(data);
        Pad(body);
        if (withOption)
        {
            Option(body, 1, "a comment"u8);
            Option(body, 0, []);
        }

        return Block(6, body);
    }

    public TestPcapNgWriter Obsolete(int interfaceId, ulong ticks, byte[] data, int wireLength)
    {
        var body = new List<byte>();
        Put16(body, (ushort)interfaceId);
        Put16(body, 0);
        Put32(body, (uint)(ticks >> 32));
        Put32(body, (uint)ticks);
        Put32(body, (uint)data.Length);
        Put32(body, (uint)wireLength);
        body.AddRange(data);
        Pad(body);
        return Block(2, body);
    }

    public TestPcapNgWriter Simple(byte[] data, int wireLength)
    {
        var body = new List<byte>();
        Put32(body, (uint)wireLength);
        body.AddRange(data);
        Pad(body);
        return Block(3, body);
    }

    /// <summary>A block of a type the reader skips (name resolution 4, statistics 5, custom 0xBAD...).</summary>
    public TestPcapNgWriter Other(uint type, int bodyLength)
    {
        var body = new List<byte>();
        for (int i = 0; i < bodyLength; i++)
        {
            body.Add((byte)i);
        }

        Pad(body);
        return Block(type, body);
    }

    private static void Pad(List<byte> body)
    {
        while (body.Count % 4 != 0)
        {
            body.Add(0);
        }
    }

    private void Option(List<byte> body, ushort code, ReadOnlySpan<byte> value)
    {
        Put16(body, code);
        Put16(body, (ushort)value.Length);
        body.AddRange(value);
        Pad(body);
    }

    private TestPcapNgWriter Block(uint type, List<byte> body)
    {
        uint length = (uint)(12 + body.Count);
        Put32(_output, type);
        Put32(_output, length);
        _output.AddRange(body);
        Put32(_output, length);
        BlockEnds.Add(_output.Count);
        return this;
    }

    private void Put16(List<byte> output, ushort value) => TestPcapWriter.Put16(output, value, _bigEndian);

    private void Put32(List<byte> output, uint value) => TestPcapWriter.Put32(output, value, _bigEndian);
}
