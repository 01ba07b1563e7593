// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FlowEngine.Packets;

/// <summary>
/// Decodes frames down to the innermost IP packet and its transport header: Ethernet II, 802.1Q/802.1ad tags,
/// MPLS, PPPoE, Linux cooked capture (SLL, SLL2), raw IP and BSD loopback; IPv4 (options, fragments), IPv6
/// (extension headers, fragments, AH); TCP (options), UDP, SCTP, DCCP, UDP-Lite, ICMP, ICMPv6; and tunnels:
/// VXLAN, VXLAN-GPE, Geneve (options walked), GRE (keys, NVGRE, PPTP, ERSPAN), GRE-in-UDP, IP-in-IP.
/// </summary>
/// <remarks>
/// The decoder never throws on packet content and never reads outside the frame: every read is preceded by a
/// length check, and a packet that fails one is rejected under a <see cref="RejectReason"/>. It allocates nothing.
/// One decoder may be shared by several threads: it holds only read-only configuration.
/// Ethernet frames of the common shapes (plain or VXLAN, IPv4 or IPv6, TCP or UDP) are first tried on a
/// straight-line fast path (PacketDecoder.FastPath.cs) whose result is byte-identical to the general path's; every
/// other frame, and every frame it is unsure of, is decoded by the general path from scratch.
/// </remarks>
public sealed partial class PacketDecoder
{
    private const byte UdpPlain = 0;
    private const byte UdpVxlan = 1;
    private const byte UdpVxlanGpe = 2;
    private const byte UdpGeneve = 3;
    private const byte UdpGre = 4;

    private const ushort EtherTypeIPv4 = 0x0800;
    private const ushort EtherTypeIPv6 = 0x86DD;
    private const ushort EtherTypeVlan = 0x8100;
    private const ushort EtherTypeQinQ = 0x88A8;
    private const ushort EtherTypeQinQLegacy = 0x9100;
    private const ushort EtherTypeMplsUnicast = 0x8847;
    private const ushort EtherTypeMplsMulticast = 0x8848;
    private const ushort EtherTypePppoeSession = 0x8864;
    private const ushort EtherTypeTransparentBridging = 0x6558;
    private const ushort EtherTypePpp = 0x880B;
    private const ushort EtherTypeErspan2 = 0x88BE;
    private const ushort EtherTypeErspan3 = 0x22EB;

    // Protocol handed from one layer to the next.
    private enum Layer : byte
    {
        Ethernet,
        EtherType,
        IPv4,
        IPv6,
        IpByVersion,
        Done,
    }

    private readonly byte[] _udpTunnelByPort = new byte[65536];
    private readonly int _maxTunnelDepth;
    private readonly int _maxTags;
    private readonly int _maxExtensionHeaders;

    /// <summary>Creates a decoder.</summary>
    /// <param name="options">Settings; defaults when null.</param>
    public PacketDecoder(DecoderOptions? options = null)
    {
        options ??= new DecoderOptions();
        options.Validate();
        foreach (ushort port in options.VxlanPorts)
        {
            _udpTunnelByPort[port] = UdpVxlan;
        }

        foreach (ushort port in options.VxlanGpePorts)
        {
            _udpTunnelByPort[port] = UdpVxlanGpe;
        }

        foreach (ushort port in options.GenevePorts)
        {
            _udpTunnelByPort[port] = UdpGeneve;
        }

        foreach (ushort port in options.GreInUdpPorts)
        {
            _udpTunnelByPort[port] = UdpGre;
        }

        _maxTunnelDepth = options.MaxTunnelDepth;
        _maxTags = options.MaxTags;
        _maxExtensionHeaders = options.MaxIPv6ExtensionHeaders;
    }

    /// <summary>
    /// Decodes one frame into <paramref name="packet"/>. <see cref="DecodedPacket.TimestampNs"/> and
    /// <see cref="DecodedPacket.WireLength"/> are kept as the caller set them (a wire length of 0 is taken to be the
    /// captured length); every other field is overwritten.
    /// </summary>
    /// <param name="frame">The captured bytes of the frame.</param>
    /// <param name="linkType">The link type of the capture interface.</param>
    /// <param name="packet">The result; <see cref="DecodedPacket.Reject"/> says why when the method returns false.</param>
    /// <returns>True when the packet decoded to an IP packet; false when it was rejected.</returns>
    public bool Decode(ReadOnlySpan<byte> frame, LinkType linkType, ref DecodedPacket packet)
    {
        if (linkType == LinkType.Ethernet && TryDecodeFast(frame, ref packet))
        {
            return true;
        }

        return DecodeGeneral(frame, linkType, ref packet);
    }

    /// <summary>
    /// The general decoder alone, layer by layer: the reference <see cref="TryDecodeFast"/> must agree with byte for
    /// byte, and the path <see cref="Decode"/> takes for every frame the fast path does not accept.
    /// </summary>
    /// <param name="frame">The captured bytes of the frame.</param>
    /// <param name="linkType">The link type of the capture interface.</param>
    /// <param name="packet">The result, as for <see cref="Decode"/>.</param>
    /// <returns>True when the packet decoded to an IP packet; false when it was rejected.</returns>
    internal bool DecodeGeneral(ReadOnlySpan<byte> frame, LinkType linkType, ref DecodedPacket packet)
    {
        Begin(ref packet, frame.Length);

        RejectReason reason = DecodeCore(frame, linkType, ref packet);
        packet.Reject = reason;
        if (reason != RejectReason.None)
        {
            return false;
        }

        if (packet.VnKind == VirtualNetworkKind.None && packet.InnerVlanId != 0)
        {
            packet.VnKind = VirtualNetworkKind.Vlan;
            packet.VnId = packet.InnerVlanId;
        }

        return true;
    }

    // Clears every field the decoder writes, keeping what the caller set (the timestamp, and the wire length raised to
    // at least the captured length): both paths start a frame here.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Begin(ref DecodedPacket packet, int capturedLength)
    {
        long ts = packet.TimestampNs;
        int wire = packet.WireLength;
        packet = default;
        packet.TimestampNs = ts;
        packet.CapturedLength = capturedLength;
        packet.WireLength = wire >= capturedLength ? wire : capturedLength;
        packet.TcpWindowScale = 0xFF;
    }

    private RejectReason DecodeCore(ReadOnlySpan<byte> frame, LinkType linkType, ref DecodedPacket p)
    {
        int off = 0;
        ushort etherType = 0;
        Layer layer;
        switch (linkType)
        {
            case LinkType.Ethernet:
                layer = Layer.Ethernet;
                break;
            case LinkType.Raw:
            case LinkType.RawLegacy:
                layer = Layer.IpByVersion;
                break;
            case LinkType.IPv4:
                layer = Layer.IPv4;
                break;
            case LinkType.IPv6:
                layer = Layer.IPv6;
                break;
            case LinkType.Null:
            case LinkType.Loop:
                {
                    if (frame.Length < 4)
                    {
                        return RejectReason.Truncated;
                    }

                    // The address family is in the capturing host's byte order for DLT_NULL; accept either.
                    uint family = BinaryPrimitives.ReadUInt32LittleEndian(frame);
                    if (family > 0xFFFF)
                    {
                        family = BinaryPrimitives.ReverseEndianness(family);
                    }

                    off = 4;
                    switch (family)
                    {
                        case 2:
                            layer = Layer.IPv4;
                            break;
                        case 10 or 24 or 28 or 30:
                            layer = Layer.IPv6;
                            break;
                        default:
                            return RejectReason.NonIp;
                    }

                    break;
                }

            case LinkType.LinuxSll:
                // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
                if (frame.Length < 16)
                {
                    return RejectReason.Truncated;
                }

                etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]);
                off = 16;
                layer = Layer.EtherType;
                break;
            case LinkType.LinuxSll2:
                // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
                if (frame.Length < 20)
                {
                    return RejectReason.Truncated;
                }

                etherType = BinaryPrimitives.ReadUInt16BigEndian(frame);
                off = 20;
                layer = Layer.EtherType;
                break;
            default:
                return RejectReason.UnsupportedLinkType;
        }

        int tags = 0;
        while (true)
        {
            switch (layer)
            {
                case Layer.Ethernet:
                    // destination(6) source(6) EtherType(2)
                    if (frame.Length - off < 14)
                    {
                        return RejectReason.Truncated;
                    }

                    etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[(off + 12)..]);
                    off += 14;
                    layer = Layer.EtherType;
                    break;

                case Layer.EtherType:
                    switch (etherType)
                    {
                        case EtherTypeIPv4:
                            layer = Layer.IPv4;
                            break;
                        case EtherTypeIPv6:
                            layer = Layer.IPv6;
                            break;
                        case EtherTypeVlan or EtherTypeQinQ or EtherTypeQinQLegacy:
                            {
                                // TCI(2) EtherType(2)
                                if (++tags > _maxTags)
                                {
                                    return RejectReason.NestingTooDeep;
                                }

                                if (frame.Length - off < 4)
                                {
                                    return RejectReason.Truncated;
                                }

                                ushort vid = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame[off..]) & 0x0FFF);
                                p.VlanCount++;
                                if (p.VlanCount == 1)
                                {
                                    p.OuterVlanId = vid;
                                }

                                if (vid != 0)
                                {
                                    p.InnerVlanId = vid;
                                }

                                etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[(off + 2)..]);
                                off += 4;
                                break;
                            }

                        case EtherTypeMplsUnicast or EtherTypeMplsMulticast:
                            {
                                // label(20) TC(3) S(1) TTL(8), repeated until S is set.
                                while (true)
                                {
                                    if (++tags > _maxTags)
                                    {
                                        return RejectReason.NestingTooDeep;
                                    }

                                    if (frame.Length - off < 4)
                                    {
                                        return RejectReason.Truncated;
                                    }

                                    bool bottom = (frame[off + 2] & 0x01) != 0;
                                    off += 4;
                                    if (bottom)
                                    {
                                        break;
                                    }
                                }

                                if (frame.Length - off < 1)
                                {
                                    return RejectReason.Truncated;
                                }

                                int nibble = frame[off] >> 4;
                                if (nibble is 4 or 6)
                                {
                                    layer = Layer.IpByVersion;
                                }
                                else if (nibble == 0 && frame.Length - off >= 4 + 14)
                                {
                                    // Pseudowire control word, then an Ethernet frame.
                                    off += 4;
                                    layer = Layer.Ethernet;
                                }
                                else
                                {
                                    return RejectReason.NonIp;
                                }

                                break;
                            }

                        case EtherTypePppoeSession:
                            {
                                // ver/type(1) code(1) session(2) length(2) PPP protocol(2)
                                if (frame.Length - off < 8)
                                {
                                    return RejectReason.Truncated;
                                }

                                ushort pppProto = BinaryPrimitives.ReadUInt16BigEndian(frame[(off + 6)..]);
                                off += 8;
                                if (pppProto == 0x0021)
                                {
                                    layer = Layer.IPv4;
                                }
                                else if (pppProto == 0x0057)
                                {
                                    layer = Layer.IPv6;
                                }
                                else
                                {
                                    return RejectReason.NonIp;
                                }

                                break;
                            }

                        default:
                            return RejectReason.NonIp;
                    }

                    break;

                case Layer.IpByVersion:
                    if (frame.Length - off < 1)
                    {
                        return RejectReason.Truncated;
                    }

                    switch (frame[off] >> 4)
                    {
                        case 4:
                            layer = Layer.IPv4;
                            break;
                        case 6:
                            layer = Layer.IPv6;
                            break;
                        default:
                            return RejectReason.BadIpVersion;
                    }

                    break;

                case Layer.IPv4:
                case Layer.IPv6:
                    {
                        RejectReason r = layer == Layer.IPv4
                            ? DecodeIPv4(frame, ref off, ref p, out layer)
                            : DecodeIPv6(frame, ref off, ref p, out layer);
                        if (r != RejectReason.None)
                        {
                            return r;
                        }

                        if (layer == Layer.Done)
                        {
                            return RejectReason.None;
                        }

                        if (++p.TunnelDepth > _maxTunnelDepth)
                        {
                            return RejectReason.NestingTooDeep;
                        }

                        // The transport layer chose the inner layer and moved off to its first byte.
                        break;
                    }

                default:
                    return RejectReason.None;
            }
        }
    }

    // Records an IP header. The first one is also the outer header; an inner one first forgets the transport
    // fields the outer packet set (Decode cleared everything before the first).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EnterIpHeader(ref DecodedPacket p, byte version, int offset, int length, byte ttl, IpAddress source, IpAddress destination)
    {
        if (p.OuterIpVersion == 0)
        {
            p.OuterIpVersion = version;
            p.OuterSource = source;
            p.OuterDestination = destination;
        }
        else
        {
            ResetInnerPacket(ref p);
        }

        p.IpVersion = version;
        p.IpOffset = offset;
        p.IpLength = length;
        p.Ttl = ttl;
        p.Source = source;
        p.Destination = destination;
    }

    private static void ResetInnerPacket(ref DecodedPacket p)
    {
        p.Flags &= PacketFlags.HasGeneveOptions | PacketFlags.VxlanReservedBits;
        p.SourcePort = 0;
        p.DestinationPort = 0;
        p.TcpFlags = 0;
        p.TcpMss = 0;
        p.TcpWindowScale = 0xFF;
        p.TcpSackPermitted = false;
        p.TcpSequence = 0;
        p.TcpAcknowledgement = 0;
        p.TcpTsVal = 0;
        p.TcpTsEcr = 0;
        p.TcpWindow = 0;
        p.IcmpCode = 0;
        p.IcmpId = 0;
        p.FragmentId = 0;
        p.FragmentOffset = 0;
        p.PayloadOffset = 0;
        p.PayloadLength = 0;
        p.TransportOffset = 0;
    }

    // RFC 791:
    //  0                   1                   2                   3
    // |Version|  IHL  |Type of Service|          Total Length         |
    // |         Identification        |Flags|      Fragment Offset    |
    // |  Time to Live |    Protocol   |         Header Checksum       |
    // |                       Source Address                          |
    // |                    Destination Address                        |
    private RejectReason DecodeIPv4(ReadOnlySpan<byte> frame, ref int off, ref DecodedPacket p, out Layer next)
    {
        next = Layer.Done;
        ReadOnlySpan<byte> ip = frame[off..];
        if (ip.Length < 20)
        {
            return RejectReason.Truncated;
        }

        if (ip[0] >> 4 != 4)
        {
            return RejectReason.BadIpVersion;
        }

        int headerLength = (ip[0] & 0x0F) * 4;
        if (headerLength < 20)
        {
            return RejectReason.BadHeaderLength;
        }

        if (ip.Length < headerLength)
        {
            return RejectReason.Truncated;
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (totalLength < headerLength)
        {
            return RejectReason.BadTotalLength;
        }

        if (off + totalLength > p.WireLength)
        {
            return RejectReason.BadTotalLength;
        }

        EnterIpHeader(ref p, 4, off, totalLength, ip[8], IpAddress.ReadV4(ip[12..]), IpAddress.ReadV4(ip[16..]));
        p.Protocol = ip[9];

        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        int fragmentOffset = (fragment & 0x1FFF) * 8;
        bool moreFragments = (fragment & 0x2000) != 0;
        if (fragmentOffset != 0 || moreFragments)
        {
            p.Flags |= PacketFlags.Fragment;
            p.FragmentId = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
            p.FragmentOffset = (ushort)fragmentOffset;
        }

        int payloadLength = totalLength - headerLength;
        if (ip.Length < totalLength)
        {
            p.Flags |= PacketFlags.SnapTruncated;
        }

        off += headerLength;
        if (fragmentOffset != 0)
        {
            p.Flags |= PacketFlags.NonFirstFragment;
            p.PayloadOffset = off;
            p.PayloadLength = payloadLength;
            return RejectReason.None;
        }

        return DecodeTransport(frame, ref off, ref p, p.Protocol, payloadLength, moreFragments, out next);
    }

    // RFC 8200:
    // |Version| Traffic Class |           Flow Label                  |
    // |         Payload Length        |  Next Header  |   Hop Limit   |
    // |                         Source Address (16)                   |
    // |                      Destination Address (16)                 |
    private RejectReason DecodeIPv6(ReadOnlySpan<byte> frame, ref int off, ref DecodedPacket p, out Layer next)
    {
        next = Layer.Done;
        ReadOnlySpan<byte> ip = frame[off..];
        if (ip.Length < 40)
        {
            return RejectReason.Truncated;
        }

        if (ip[0] >> 4 != 6)
        {
            return RejectReason.BadIpVersion;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        int totalLength = 40 + payloadLength;
        if (off + totalLength > p.WireLength)
        {
            return RejectReason.BadTotalLength;
        }

        EnterIpHeader(ref p, 6, off, totalLength, ip[7], IpAddress.ReadV6(ip[8..]), IpAddress.ReadV6(ip[24..]));

        if (ip.Length < totalLength)
        {
            p.Flags |= PacketFlags.SnapTruncated;
        }

        byte nextHeader = ip[6];
        int pos = 40;
        bool moreFragments = false;
        int extensions = 0;
        while (true)
        {
            int extLength;
            switch (nextHeader)
            {
                case IpProtocol.HopByHop or IpProtocol.Routing or IpProtocol.DestinationOptions or IpProtocol.Mobility or IpProtocol.Hip or IpProtocol.Shim6:
                    // Hop-by-hop, routing, destination options, mobility, HIP, shim6: next(1) length in 8-byte units - 1 (1).
                    if (ip.Length < pos + 2)
                    {
                        return RejectReason.Truncated;
                    }

                    extLength = (ip[pos + 1] + 1) * 8;
                    break;
                case IpProtocol.AuthenticationHeader:
                    // Authentication header: next(1) length in 4-byte units - 2 (1).
                    if (ip.Length < pos + 2)
                    {
                        return RejectReason.Truncated;
                    }

                    extLength = (ip[pos + 1] + 2) * 4;
                    break;
                case IpProtocol.Fragment:
                    {
                        // Fragment: next(1) reserved(1) offset(13) res(2) M(1) identification(4)
                        if (ip.Length < pos + 8)
                        {
                            return RejectReason.Truncated;
                        }

                        ushort fo = BinaryPrimitives.ReadUInt16BigEndian(ip[(pos + 2)..]);
                        int fragmentOffset = fo & 0xFFF8;
                        moreFragments = (fo & 0x0001) != 0;
                        if (fragmentOffset != 0 || moreFragments)
                        {
                            p.Flags |= PacketFlags.Fragment;
                            p.FragmentId = BinaryPrimitives.ReadUInt32BigEndian(ip[(pos + 4)..]);
                            p.FragmentOffset = (ushort)fragmentOffset;
                        }

                        extLength = 8;
                        if (fragmentOffset != 0)
                        {
                            if (pos + extLength > totalLength)
                            {
                                return RejectReason.BadTotalLength;
                            }

                            p.Flags |= PacketFlags.NonFirstFragment;
                            p.Protocol = ip[pos];
                            p.PayloadOffset = off + pos + extLength;
                            p.PayloadLength = totalLength - pos - extLength;
                            off += pos + extLength;
                            return RejectReason.None;
                        }

                        break;
                    }

                default:
                    extLength = -1;
                    break;
            }

            if (extLength < 0)
            {
                break;
            }

            if (++extensions > _maxExtensionHeaders)
            {
                return RejectReason.NestingTooDeep;
            }

            if (pos + extLength > totalLength)
            {
                return RejectReason.BadHeaderLength;
            }

            if (ip.Length < pos + extLength)
            {
                return RejectReason.Truncated;
            }

            nextHeader = ip[pos];
            pos += extLength;
        }

        p.Protocol = nextHeader;
        off += pos;
        return DecodeTransport(frame, ref off, ref p, nextHeader, totalLength - pos, moreFragments, out next);
    }

    private RejectReason DecodeTransport(ReadOnlySpan<byte> frame, ref int off, ref DecodedPacket p, byte protocol, int payloadLength, bool firstFragmentOnly, out Layer next)
    {
        next = Layer.Done;
        p.TransportOffset = off;
        ReadOnlySpan<byte> l4 = frame[off..];
        switch (protocol)
        {
            case IpProtocol.Tcp:
                return DecodeTcp(l4, off, ref p, payloadLength);
            case IpProtocol.Udp or IpProtocol.UdpLite:
                {
                    // source port(2) destination port(2) length(2) checksum(2)
                    if (payloadLength < 8)
                    {
                        return RejectReason.BadTotalLength;
                    }

                    if (l4.Length < 8)
                    {
                        return RejectReason.Truncated;
                    }

                    p.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(l4);
                    p.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                    if (protocol == IpProtocol.Udp)
                    {
                        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(l4[4..]);
                        // A first fragment carries the whole datagram's length; 0 means a jumbogram-style length.
                        if ((udpLength < 8 && !(udpLength == 0 && firstFragmentOnly)) || (udpLength > payloadLength && !firstFragmentOnly))
                        {
                            return RejectReason.BadHeaderLength;
                        }
                    }

                    p.Flags |= PacketFlags.HasTransport;
                    p.PayloadOffset = off + 8;
                    p.PayloadLength = payloadLength - 8;
                    if (protocol == IpProtocol.Udp && !firstFragmentOnly)
                    {
                        byte tunnel = _udpTunnelByPort[p.DestinationPort];
                        if (tunnel != UdpPlain)
                        {
                            return DecodeUdpTunnel(frame, ref off, ref p, tunnel, out next);
                        }
                    }

                    return RejectReason.None;
                }

            case IpProtocol.Sctp or IpProtocol.Dccp:
                // SCTP common header (12 bytes) and DCCP generic header (at least 12 bytes) start with the ports.
                if (payloadLength < 12)
                {
                    return RejectReason.BadTotalLength;
                }

                if (l4.Length < 12)
                {
                    return RejectReason.Truncated;
                }

                p.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(l4);
                p.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                p.Flags |= PacketFlags.HasTransport;
                p.PayloadOffset = off + 12;
                p.PayloadLength = payloadLength - 12;
                return RejectReason.None;

            case IpProtocol.Icmp or IpProtocol.IcmpV6:
                {
                    // type(1) code(1) checksum(2) rest of header(4)
                    if (payloadLength < 4)
                    {
                        return RejectReason.BadTotalLength;
                    }

                    if (l4.Length < 4)
                    {
                        return RejectReason.Truncated;
                    }

                    byte type = l4[0];
                    byte code = l4[1];
                    int counterpart = protocol == IpProtocol.Icmp ? Icmp4Counterpart(type) : Icmp6Counterpart(type);
                    p.SourcePort = type;
                    p.DestinationPort = counterpart >= 0 ? (ushort)counterpart : code;
                    p.IcmpCode = code;
                    bool echoLike = protocol == IpProtocol.Icmp ? type is 0 or 8 or 13 or 14 or 15 or 16 or 17 or 18 : type is 128 or 129;
                    if (echoLike && l4.Length >= 8 && payloadLength >= 8)
                    {
                        p.IcmpId = BinaryPrimitives.ReadUInt16BigEndian(l4[4..]);
                    }

                    p.Flags |= PacketFlags.HasTransport;
                    int header = payloadLength >= 8 ? 8 : 4;
                    p.PayloadOffset = off + header;
                    p.PayloadLength = payloadLength - header;
                    return RejectReason.None;
                }

            case IpProtocol.IPv4 or IpProtocol.IPv6:
                if (firstFragmentOnly)
                {
                    return RejectReason.None;
                }

                next = protocol == IpProtocol.IPv4 ? Layer.IPv4 : Layer.IPv6;
                return RejectReason.None;

            case IpProtocol.Gre:
                if (firstFragmentOnly)
                {
                    return RejectReason.None;
                }

                return DecodeGre(frame, ref off, ref p, payloadLength, out next);

            default:
                p.PayloadOffset = off;
                p.PayloadLength = payloadLength;
                return RejectReason.None;
        }
    }

    // RFC 9293:
    // |          Source Port          |       Destination Port        |
    // |                        Sequence Number                        |
    // |                    Acknowledgment Number                      |
    // |  Data |       |C|E|U|A|P|R|S|F|                               |
    // | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
    // |           Checksum            |         Urgent Pointer        |
    // |                           [Options]                           |
    private static RejectReason DecodeTcp(ReadOnlySpan<byte> l4, int off, ref DecodedPacket p, int payloadLength)
    {
        if (payloadLength < 20)
        {
            return RejectReason.BadTotalLength;
        }

        if (l4.Length < 20)
        {
            return RejectReason.Truncated;
        }

        int headerLength = (l4[12] >> 4) * 4;
        if (headerLength < 20 || headerLength > payloadLength)
        {
            return RejectReason.BadHeaderLength;
        }

        p.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(l4);
        p.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
        p.TcpSequence = BinaryPrimitives.ReadUInt32BigEndian(l4[4..]);
        p.TcpAcknowledgement = BinaryPrimitives.ReadUInt32BigEndian(l4[8..]);
        p.TcpFlags = (TcpFlags)l4[13];
        p.TcpWindow = BinaryPrimitives.ReadUInt16BigEndian(l4[14..]);
        p.Flags |= PacketFlags.HasTransport;
        p.PayloadOffset = off + headerLength;
        p.PayloadLength = payloadLength - headerLength;
        if (headerLength > 20)
        {
            ParseTcpOptions(l4[20..Math.Min(headerLength, l4.Length)], ref p);
        }

        return RejectReason.None;
    }

    private static void ParseTcpOptions(ReadOnlySpan<byte> options, ref DecodedPacket p)
    {
        p.Flags |= PacketFlags.HasTcpOptions;

        // The layout of nearly every segment after the handshake (RFC 7323, appendix A): NOP, NOP, timestamps.
        if (options.Length == 12 && BinaryPrimitives.ReadUInt32BigEndian(options) == 0x0101_080A)
        {
            p.TcpTsVal = BinaryPrimitives.ReadUInt32BigEndian(options[4..]);
            p.TcpTsEcr = BinaryPrimitives.ReadUInt32BigEndian(options[8..]);
            return;
        }

        int i = 0;
        while (i < options.Length)
        {
            byte kind = options[i];
            if (kind == 0)
            {
                return;
            }

            if (kind == 1)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length)
            {
                return;
            }

            int length = options[i + 1];
            if (length < 2 || i + length > options.Length)
            {
                return;
            }

            switch (kind)
            {
                case 2 when length == 4:
                    p.TcpMss = BinaryPrimitives.ReadUInt16BigEndian(options[(i + 2)..]);
                    break;
                case 3 when length == 3:
                    p.TcpWindowScale = options[i + 2];
                    break;
                case 4 when length == 2:
                    p.TcpSackPermitted = true;
                    break;
                case 8 when length == 10:
                    p.TcpTsVal = BinaryPrimitives.ReadUInt32BigEndian(options[(i + 2)..]);
                    p.TcpTsEcr = BinaryPrimitives.ReadUInt32BigEndian(options[(i + 6)..]);
                    break;
            }

            i += length;
        }
    }

    private static RejectReason DecodeUdpTunnel(ReadOnlySpan<byte> frame, ref int off, ref DecodedPacket p, byte tunnel, out Layer next)
    {
        next = Layer.Done;
        int start = off + 8;
        ReadOnlySpan<byte> t = frame[start..];
        switch (tunnel)
        {
            case UdpVxlan:
            case UdpVxlanGpe:
                {
                    // RFC 7348 (VXLAN) and draft-ietf-nvo3-vxlan-gpe:
                    // |R|R|Ver|I|P|B|O|      Reserved                 | Next Protocol |
                    // |                VXLAN Network Identifier (VNI) |   Reserved    |
                    if (t.Length < 8)
                    {
                        return RejectReason.Truncated;
                    }

                    // On VXLAN ports the payload is Ethernet whatever the flags say (as Linux and Wireshark
                    // decode it); the next-protocol field is honoured on VXLAN-GPE ports only.
                    byte flags = t[0];
                    bool gpe = tunnel == UdpVxlanGpe;
                    if ((flags & ~0x08) != 0 || t[1] != 0 || t[2] != 0 || t[7] != 0 || (!gpe && t[3] != 0))
                    {
                        p.Flags |= PacketFlags.VxlanReservedBits;
                    }

                    next = !gpe ? Layer.Ethernet : t[3] switch
                    {
                        1 => Layer.IPv4,
                        2 => Layer.IPv6,
                        3 => Layer.Ethernet,
                        _ => Layer.Done, // NSH and others: counted as the outer UDP packet.
                    };
                    if (next != Layer.Done)
                    {
                        p.VnKind = VirtualNetworkKind.Vxlan;
                        p.VnId = BinaryPrimitives.ReadUInt32BigEndian(t[4..]) >> 8;
                        off = start + 8;
                    }

                    return RejectReason.None;
                }

            case UdpGeneve:
                {
                    // RFC 8926:
                    // |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
                    // |        Virtual Network Identifier (VNI)       |    Reserved   |
                    // |                    Variable-Length Options                    |
                    if (t.Length < 8)
                    {
                        return RejectReason.Truncated;
                    }

                    if (t[0] >> 6 != 0)
                    {
                        return RejectReason.UnsupportedTunnel;
                    }

                    int optionsLength = (t[0] & 0x3F) * 4;
                    if (t.Length < 8 + optionsLength)
                    {
                        return RejectReason.Truncated;
                    }

                    if (!GeneveOptionReader.IsWellFormed(t.Slice(8, optionsLength)))
                    {
                        return RejectReason.Malformed;
                    }

                    ushort protocolType = BinaryPrimitives.ReadUInt16BigEndian(t[2..]);
                    next = EtherTypeToLayer(protocolType);
                    if (next == Layer.Done)
                    {
                        // Unknown payload: counted as the outer UDP packet.
                        return RejectReason.None;
                    }

                    p.VnKind = VirtualNetworkKind.Geneve;
                    p.VnId = BinaryPrimitives.ReadUInt32BigEndian(t[4..]) >> 8;
                    if (optionsLength > 0)
                    {
                        p.Flags |= PacketFlags.HasGeneveOptions;
                        p.GeneveOptionsOffset = start + 8;
                        p.GeneveOptionsLength = optionsLength;
                    }

                    off = start + 8 + optionsLength;
                    return RejectReason.None;
                }

            case UdpGre:
                {
                    int greOffset = start;
                    RejectReason r = DecodeGre(frame, ref greOffset, ref p, p.PayloadLength, out next);
                    if (next != Layer.Done)
                    {
                        off = greOffset;
                    }

                    return r;
                }

            default:
                return RejectReason.None;
        }
    }

    // RFC 2784 / RFC 2890 (version 0), RFC 2637 (version 1, PPTP):
    // |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
    // |      Checksum (optional)      |       Reserved1 (Optional)    |
    // |                         Key (optional)                        |
    // |                 Sequence Number (Optional)                    |
    // |               Acknowledgment Number (version 1, optional)     |
    private static RejectReason DecodeGre(ReadOnlySpan<byte> frame, ref int off, ref DecodedPacket p, int payloadLength, out Layer next)
    {
        next = Layer.Done;
        ReadOnlySpan<byte> g = frame[off..];
        if (g.Length < 4 || payloadLength < 4)
        {
            return RejectReason.Truncated;
        }

        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(g);
        ushort protocolType = BinaryPrimitives.ReadUInt16BigEndian(g[2..]);
        int version = flags & 0x7;
        bool hasChecksum = (flags & 0x8000) != 0;
        bool hasKey = (flags & 0x2000) != 0;
        bool hasSequence = (flags & 0x1000) != 0;
        int header = 4;
        uint key = 0;
        if (version == 0)
        {
            if (hasChecksum)
            {
                header += 4;
            }

            if (hasKey)
            {
                if (g.Length < header + 4)
                {
                    return RejectReason.Truncated;
                }

                key = BinaryPrimitives.ReadUInt32BigEndian(g[header..]);
                header += 4;
            }

            if (hasSequence)
            {
                header += 4;
            }
        }
        else if (version == 1)
        {
            // PPTP: key (payload length, call id) always present, checksum never.
            if (hasChecksum || !hasKey || protocolType != EtherTypePpp)
            {
                return RejectReason.UnsupportedTunnel;
            }

            if (g.Length < 8)
            {
                return RejectReason.Truncated;
            }

            // The call id differs per direction, so it does not name a virtual network.
            header = 8 + (hasSequence ? 4 : 0) + ((flags & 0x0080) != 0 ? 4 : 0);
        }
        else
        {
            return RejectReason.UnsupportedTunnel;
        }

        if (g.Length < header || payloadLength < header)
        {
            return RejectReason.Truncated;
        }

        g = g[header..];
        int inner = header;
        switch (protocolType)
        {
            case EtherTypePpp:
                {
                    // PPP in HDLC-like framing: optional address/control (FF 03), protocol (1 or 2 bytes).
                    // A PPTP acknowledgement carries no payload: counted as the outer GRE packet.
                    int i = 0;
                    if (g.Length >= 2 && g[0] == 0xFF && g[1] == 0x03)
                    {
                        i = 2;
                    }

                    if (g.Length < i + 1)
                    {
                        return g.Length == 0 ? RejectReason.None : RejectReason.Truncated;
                    }

                    int pppProtocol;
                    if ((g[i] & 0x01) != 0)
                    {
                        pppProtocol = g[i];
                        i += 1;
                    }
                    else
                    {
                        if (g.Length < i + 2)
                        {
                            return RejectReason.Truncated;
                        }

                        pppProtocol = BinaryPrimitives.ReadUInt16BigEndian(g[i..]);
                        i += 2;
                    }

                    inner += i;
                    next = pppProtocol switch
                    {
                        0x21 => Layer.IPv4,
                        0x57 => Layer.IPv6,
                        _ => Layer.Done,
                    };
                    break;
                }

            case EtherTypeErspan2:
                // Type I has no sequence number and no ERSPAN header; type II has both and an 8-byte header.
                if (hasSequence)
                {
                    if (g.Length < 8)
                    {
                        return RejectReason.Truncated;
                    }

                    inner += 8;
                }

                next = Layer.Ethernet;
                break;

            case EtherTypeErspan3:
                {
                    // 12-byte header, then an 8-byte platform sub-header when O is set.
                    if (g.Length < 12)
                    {
                        return RejectReason.Truncated;
                    }

                    int length = 12 + ((g[11] & 0x01) != 0 ? 8 : 0);
                    if (g.Length < length)
                    {
                        return RejectReason.Truncated;
                    }

                    inner += length;
                    next = Layer.Ethernet;
                    break;
                }

            default:
                next = EtherTypeToLayer(protocolType);
                break;
        }

        if (next != Layer.Done)
        {
            // Unknown payloads (keepalives, other protocols) are counted as the outer GRE packet.
            p.VnKind = VirtualNetworkKind.Gre;
            p.VnId = key;
            off += inner;
        }

        return RejectReason.None;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Layer EtherTypeToLayer(ushort etherType) => etherType switch
    {
        EtherTypeTransparentBridging => Layer.Ethernet,
        EtherTypeIPv4 => Layer.IPv4,
        EtherTypeIPv6 => Layer.IPv6,
        _ => Layer.Done,
    };

    /// <summary>ICMPv4 request/reply counterpart of a type, or -1 (as Zeek pairs them).</summary>
    /// <param name="type">ICMP type.</param>
    /// <returns>The counterpart type, or -1 when the type is not half of a pair.</returns>
    public static int Icmp4Counterpart(byte type) => type switch
    {
        0 => 8,
        8 => 0,
        9 => 10,
        10 => 9,
        13 => 14,
        14 => 13,
        15 => 16,
        16 => 15,
        17 => 18,
        18 => 17,
        _ => -1,
    };

    /// <summary>ICMPv6 request/reply counterpart of a type, or -1 (as Zeek pairs them).</summary>
    /// <param name="type">ICMPv6 type.</param>
    /// <returns>The counterpart type, or -1 when the type is not half of a pair.</returns>
    public static int Icmp6Counterpart(byte type) => type switch
    {
        128 => 129,
        129 => 128,
        130 => 131,
        131 => 130,
        133 => 134,
        134 => 133,
        135 => 136,
        136 => 135,
        139 => 140,
        140 => 139,
        144 => 145,
        145 => 144,
        _ => -1,
    };
}
