// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Net;

namespace FlowEngine.Tests.Infrastructure;

/// <summary>Builds test frames layer by layer, innermost first (each method wraps what it is given).</summary>
internal static class Frames
{
    public static byte[] Ethernet(ushort etherType, byte[] payload, params ushort[] vlanTags)
    {
        var f = new List<byte>();
        f.AddRange([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
        for (int i = 0; i < vlanTags.Length; i++)
        {
            f.AddRange(Be16(i == 0 && vlanTags.Length > 1 ? (ushort)0x88A8 : (ushort)0x8100));
            f.AddRange(Be16(vlanTags[i]));
        }

        f.AddRange(Be16(etherType));
        f.AddRange(payload);
        return [.. f];
    }

    public static byte[] IPv4(string src, string dst, byte protocol, byte[] payload, ushort fragment = 0, ushort id = 1, int? totalLength = null)
    {
        var h = new byte[20];
        h[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), (ushort)(totalLength ?? (20 + payload.Length)));
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(6), fragment);
        h[8] = 64;
        h[9] = protocol;
        IPAddress.Parse(src).GetAddressBytes().CopyTo(h, 12);
        IPAddress.Parse(dst).GetAddressBytes().CopyTo(h, 16);
        return [.. h, .. payload];
    }

    public static byte[] IPv6(string src, string dst, byte nextHeader, byte[] payload)
    {
        var h = new byte[40];
        h[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), (ushort)payload.Length);
        h[6] = nextHeader;
        h[7] = 64;
        IPAddress.Parse(src).GetAddressBytes().CopyTo(h, 8);
        IPAddress.Parse(dst).GetAddressBytes().CopyTo(h, 24);
        return [.. h, .. payload];
    }

    /// <summary>An IPv6 extension header (hop-by-hop, routing, destination options) of 8 bytes.</summary>
    public static byte[] Extension(byte nextHeader, byte[] payload) => [nextHeader, 0, 1, 4, 0, 0, 0, 0, .. payload];

    public static byte[] Udp(ushort sport, ushort dport, byte[] payload)
    {
        var h = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(h, sport);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), (ushort)(8 + payload.Length));
        return [.. h, .. payload];
    }

    public static byte[] Tcp(ushort sport, ushort dport, byte flags, byte[] payload, byte[]? options = null)
    {
        options ??= [];
        var h = new byte[20 + options.Length];
        BinaryPrimitives.WriteUInt16BigEndian(h, sport);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(4), 1000);
        h[12] = (byte)((h.Length / 4) << 4);
        h[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(14), 65535);
        options.CopyTo(h, 20);
        return [.. h, .. payload];
    }

    public static byte[] Icmp(byte type, byte code, ushort id, byte[] payload) =>
        [type, code, 0, 0, (byte)(id >> 8), (byte)id, 0, 1, .. payload];

    public static byte[] Vxlan(uint vni, byte[] innerFrame) =>
        [0x08, 0, 0, 0, (byte)(vni >> 16), (byte)(vni >> 8), (byte)vni, 0, .. innerFrame];

    public static byte[] Geneve(uint vni, ushort protocol, byte[] options, byte[] inner) =>
        [(byte)(options.Length / 4), 0, (byte)(protocol >> 8), (byte)protocol, (byte)(vni >> 16), (byte)(vni >> 8), (byte)vni, 0, .. options, .. inner];

    public static byte[] Gre(ushort protocol, uint? key, byte[] inner)
    {
        var h = new List<byte> { (byte)(key is null ? 0 : 0x20), 0 };
        h.AddRange(Be16(protocol));
        if (key is uint k)
        {
            h.AddRange([(byte)(k >> 24), (byte)(k >> 16), (byte)(k >> 8), (byte)k]);
        }

        h.AddRange(inner);
        return [.. h];
    }

    /// <summary>A VXLAN-encapsulated TCP/IPv4 frame as a hypervisor would send it.</summary>
    public static byte[] VxlanTcp(uint vni, string innerSrc, string innerDst, ushort sport, ushort dport, byte flags, int payloadBytes = 0) =>
        Ethernet(0x0800, IPv4("192.0.2.1", "192.0.2.2", 17, Udp(49152, 4789, Vxlan(vni, Ethernet(0x0800, IPv4(innerSrc, innerDst, 6, Tcp(sport, dport, flags, new byte[payloadBytes])))))));

    private static byte[] Be16(ushort v) => [(byte)(v >> 8), (byte)v];
}
