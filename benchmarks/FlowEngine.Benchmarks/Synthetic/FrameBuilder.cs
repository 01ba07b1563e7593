// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace FlowEngine.Benchmarks.Synthetic;

/// <summary>
/// Writes protocol headers into a span, in network byte order. Each method returns the bytes written. Lengths are
/// passed in by the caller, so a frame is built outside-in with its sizes known up front.
/// </summary>
public static class FrameBuilder
{
    /// <summary>EtherType IPv4.</summary>
    public const ushort EtherTypeIPv4 = 0x0800;

    /// <summary>EtherType IPv6.</summary>
    public const ushort EtherTypeIPv6 = 0x86DD;

    /// <summary>EtherType 802.1Q.</summary>
    public const ushort EtherTypeVlan = 0x8100;

    /// <summary>EtherType transparent Ethernet bridging (Geneve protocol type for an inner Ethernet frame).</summary>
    public const ushort EtherTypeTransparentBridging = 0x6558;

    /// <summary>IANA well-known VXLAN port.</summary>
    public const ushort VxlanPort = 4789;

    /// <summary>IANA well-known Geneve port.</summary>
    public const ushort GenevePort = 6081;

    /// <summary>Ethernet header without tag.</summary>
    public const int EthernetLength = 14;

    /// <summary>One 802.1Q tag.</summary>
    public const int VlanTagLength = 4;

    /// <summary>IPv4 header without options.</summary>
    public const int IPv4Length = 20;

    /// <summary>IPv6 fixed header.</summary>
    public const int IPv6Length = 40;

    /// <summary>UDP header.</summary>
    public const int UdpLength = 8;

    /// <summary>VXLAN header.</summary>
    public const int VxlanLength = 8;

    /// <summary>Geneve fixed header.</summary>
    public const int GeneveLength = 8;

    /// <summary>TCP header of a SYN or SYN-ACK as Linux sends it: MSS, SACK-permitted, timestamps, NOP, window scale.</summary>
    public const int TcpSynLength = 40;

    /// <summary>TCP header with NOP, NOP, timestamps, as Linux sends after the handshake.</summary>
    public const int TcpTimestampLength = 32;

    /// <summary>
    /// Ethernet II header, with one 802.1Q tag when <paramref name="vlanId"/> is not 0.
    /// </summary>
    /// <param name="d">Destination.</param>
    /// <param name="dstMac">Destination MAC in the low 48 bits.</param>
    /// <param name="srcMac">Source MAC in the low 48 bits.</param>
    /// <param name="vlanId">VLAN id (1-4094), 0 for untagged.</param>
    /// <param name="etherType">EtherType of the payload.</param>
    /// <returns>14 or 18.</returns>
    public static int WriteEthernet(Span<byte> d, ulong dstMac, ulong srcMac, ushort vlanId, ushort etherType)
    {
        WriteMac(d, dstMac);
        WriteMac(d[6..], srcMac);
        if (vlanId == 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(d[12..], etherType);
            return EthernetLength;
        }

        // TPID(2) PCP(3) DEI(1) VID(12) EtherType(2)
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], EtherTypeVlan);
        BinaryPrimitives.WriteUInt16BigEndian(d[14..], (ushort)(vlanId & 0x0FFF));
        BinaryPrimitives.WriteUInt16BigEndian(d[16..], etherType);
        return EthernetLength + VlanTagLength;
    }

    /// <summary>IPv4 header without options, DF set, with a correct header checksum.</summary>
    /// <param name="d">Destination.</param>
    /// <param name="src">Source address, host order.</param>
    /// <param name="dst">Destination address, host order.</param>
    /// <param name="protocol">IANA protocol number.</param>
    /// <param name="totalLength">Header plus payload bytes.</param>
    /// <param name="identification">IP id.</param>
    /// <param name="ttl">Time to live.</param>
    /// <returns>20.</returns>
    public static int WriteIPv4(Span<byte> d, uint src, uint dst, byte protocol, int totalLength, ushort identification, byte ttl)
    {
        d[0] = 0x45;
        d[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], checked((ushort)totalLength));
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], identification);
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], 0x4000);
        d[8] = ttl;
        d[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(d[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], src);
        BinaryPrimitives.WriteUInt32BigEndian(d[16..], dst);
        BinaryPrimitives.WriteUInt16BigEndian(d[10..], InternetChecksum(d[..IPv4Length]));
        return IPv4Length;
    }

    /// <summary>IPv6 fixed header.</summary>
    /// <param name="d">Destination.</param>
    /// <param name="src">Source address (big-endian value of the 16 bytes).</param>
    /// <param name="dst">Destination address.</param>
    /// <param name="nextHeader">Upper-layer protocol.</param>
    /// <param name="payloadLength">Bytes after the fixed header.</param>
    /// <param name="flowLabel">20-bit flow label.</param>
    /// <param name="hopLimit">Hop limit.</param>
    /// <returns>40.</returns>
    public static int WriteIPv6(Span<byte> d, UInt128 src, UInt128 dst, byte nextHeader, int payloadLength, uint flowLabel, byte hopLimit)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, 0x6000_0000u | (flowLabel & 0xF_FFFF));
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], checked((ushort)payloadLength));
        d[6] = nextHeader;
        d[7] = hopLimit;
        BinaryPrimitives.WriteUInt128BigEndian(d[8..], src);
        BinaryPrimitives.WriteUInt128BigEndian(d[24..], dst);
        return IPv6Length;
    }

    /// <summary>UDP header with checksum 0 (none, as Linux sends VXLAN over IPv4 by default).</summary>
    /// <param name="d">Destination.</param>
    /// <param name="srcPort">Source port.</param>
    /// <param name="dstPort">Destination port.</param>
    /// <param name="length">Header plus payload bytes.</param>
    /// <returns>8.</returns>
    public static int WriteUdp(Span<byte> d, ushort srcPort, ushort dstPort, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], checked((ushort)length));
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], 0);
        return UdpLength;
    }

    /// <summary>
    /// TCP header with the options Linux sends: on SYN segments MSS, SACK-permitted, timestamps, NOP, window scale
    /// (40 bytes); otherwise NOP, NOP, timestamps (32 bytes). Checksum 0.
    /// </summary>
    /// <param name="d">Destination.</param>
    /// <param name="srcPort">Source port.</param>
    /// <param name="dstPort">Destination port.</param>
    /// <param name="sequence">Sequence number.</param>
    /// <param name="acknowledgement">Acknowledgement number (0 when ACK is clear).</param>
    /// <param name="flags">Flag byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10).</param>
    /// <param name="window">Window, unscaled.</param>
    /// <param name="tsVal">Timestamp value.</param>
    /// <param name="tsEcr">Timestamp echo reply.</param>
    /// <returns>40 for SYN segments, 32 otherwise.</returns>
    public static int WriteTcp(Span<byte> d, ushort srcPort, ushort dstPort, uint sequence, uint acknowledgement, byte flags, ushort window, uint tsVal, uint tsEcr)
    {
        bool syn = (flags & 0x02) != 0;
        int length = syn ? TcpSynLength : TcpTimestampLength;
        BinaryPrimitives.WriteUInt16BigEndian(d, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], dstPort);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], acknowledgement);
        d[12] = (byte)(length / 4 << 4);
        d[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(d[14..], window);
        BinaryPrimitives.WriteUInt32BigEndian(d[16..], 0); // checksum, urgent pointer
        Span<byte> o = d[20..length];
        if (syn)
        {
            // kind 2 MSS(4) | kind 4 SACK-permitted(2) | kind 8 timestamps(10) | NOP | kind 3 window scale(3)
            o[0] = 2;
            o[1] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(o[2..], 1460);
            o[4] = 4;
            o[5] = 2;
            WriteTimestampOption(o[6..], tsVal, tsEcr);
            o[16] = 1;
            o[17] = 3;
            o[18] = 3;
            o[19] = 7;
        }
        else
        {
            o[0] = 1;
            o[1] = 1;
            WriteTimestampOption(o[2..], tsVal, tsEcr);
        }

        return length;
    }

    // RFC 7348:
    // |R|R|R|R|I|R|R|R|            Reserved                           |
    // |                VXLAN Network Identifier (VNI) |   Reserved    |

    /// <summary>VXLAN header with the I flag and <paramref name="vni"/>.</summary>
    /// <param name="d">Destination.</param>
    /// <param name="vni">24-bit VNI.</param>
    /// <returns>8.</returns>
    public static int WriteVxlan(Span<byte> d, uint vni)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, 0x0800_0000u);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], (vni & 0xFF_FFFF) << 8);
        return VxlanLength;
    }

    // RFC 8926:
    // |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
    // |        Virtual Network Identifier (VNI)       |    Reserved   |
    // |                    Variable-Length Options                    |

    /// <summary>Geneve fixed header. Options follow and are written with <see cref="WriteGeneveOption"/>.</summary>
    /// <param name="d">Destination.</param>
    /// <param name="vni">24-bit VNI.</param>
    /// <param name="optionsLength">Bytes of options that follow (a multiple of 4, at most 252).</param>
    /// <param name="protocolType">EtherType of the payload; 0x6558 for Ethernet.</param>
    /// <returns>8.</returns>
    public static int WriteGeneve(Span<byte> d, uint vni, int optionsLength, ushort protocolType)
    {
        if (optionsLength % 4 != 0 || optionsLength > 252)
        {
            throw new ArgumentOutOfRangeException(nameof(optionsLength));
        }

        d[0] = (byte)(optionsLength / 4);
        d[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], protocolType);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], (vni & 0xFF_FFFF) << 8);
        return GeneveLength;
    }

    // |          Option Class         |      Type     |R|R|R| Length  |
    // |                      Variable-Length Option Data              |

    /// <summary>One Geneve option TLV.</summary>
    /// <param name="d">Destination.</param>
    /// <param name="optionClass">Option class.</param>
    /// <param name="type">Type; the high bit marks a critical option.</param>
    /// <param name="data">Option data, a multiple of 4 bytes, at most 124.</param>
    /// <returns>4 + data length.</returns>
    public static int WriteGeneveOption(Span<byte> d, ushort optionClass, byte type, ReadOnlySpan<byte> data)
    {
        if (data.Length % 4 != 0 || data.Length > 124)
        {
            throw new ArgumentOutOfRangeException(nameof(data));
        }

        BinaryPrimitives.WriteUInt16BigEndian(d, optionClass);
        d[2] = type;
        d[3] = (byte)(data.Length / 4);
        data.CopyTo(d[4..]);
        return 4 + data.Length;
    }

    /// <summary>RFC 1071 checksum of <paramref name="data"/>.</summary>
    /// <param name="data">Bytes, even length.</param>
    /// <returns>The one's complement of the one's complement sum.</returns>
    public static ushort InternetChecksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    private static void WriteMac(Span<byte> d, ulong mac)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)(mac >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(d[2..], (uint)mac);
    }

    private static void WriteTimestampOption(Span<byte> d, uint tsVal, uint tsEcr)
    {
        d[0] = 8;
        d[1] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(d[2..], tsVal);
        BinaryPrimitives.WriteUInt32BigEndian(d[6..], tsEcr);
    }
}
