// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FlowEngine.Packets;

// The fast path: straight-line decoding of the frame shapes nearly all traffic in a virtual network has, tried by
// Decode before the general layer-by-layer decoder. It accepts a frame only when it can produce exactly the
// DecodedPacket the general path would (the tests compare the two byte for byte), and declines everything else:
//
//   Ethernet II [one 802.1Q tag] -> IPv4 (IHL 5, not a fragment) -> UDP to a VXLAN port -> VXLAN (flags 0x08, reserved
//       bytes 0) -> Ethernet II [one 802.1Q tag] -> inner
//   Ethernet II [one 802.1Q tag] -> inner
//   inner: IPv4 (IHL 5, not a fragment) or IPv6 (next header TCP or UDP, no extension headers), captured whole
//       -> TCP (any header length within the IP payload: NOP, NOP, timestamps read directly, other options through
//       ParseTcpOptions, the general path's parser) or UDP to a port that is not a tunnel port.
//
// Every IP packet it accepts is captured whole (so never SnapTruncated, and within the wire length), which also
// proves every transport header read in range; the Ethernet, VLAN and VXLAN reads are proved by explicit checks.
public sealed partial class PacketDecoder
{
    // Ethernet(14) + IPv4(20) + UDP(8): the smallest frame of any accepted shape.
    private const int FastMinimumFrame = 14 + 20 + 8;

    // NOP, NOP, kind 8 length 10: the first four option bytes of the RFC 7323 appendix A layout.
    private const uint TcpNopNopTimestamp = 0x0101_080A;

    /// <summary>
    /// Decodes <paramref name="frame"/> (link type Ethernet) when it has one of the common shapes, with straight-line
    /// code and no per-layer dispatch. When it returns false, <paramref name="packet"/> may hold a partial result, but
    /// its <see cref="DecodedPacket.TimestampNs"/> and <see cref="DecodedPacket.WireLength"/> are still what the
    /// general path needs (the caller's values, the wire length at most raised to the captured length), so the
    /// general path decodes it from scratch as if the fast path had not run.
    /// </summary>
    /// <param name="frame">The captured bytes of an Ethernet frame.</param>
    /// <param name="packet">The result when the method returns true, identical to the general path's.</param>
    /// <returns>True when the frame was decoded (it is then never rejected); false when the general path must decode it.</returns>
    internal bool TryDecodeFast(ReadOnlySpan<byte> frame, ref DecodedPacket packet)
    {
        int length = frame.Length;
        if (length < FastMinimumFrame)
        {
            return false;
        }

        ref byte f = ref MemoryMarshal.GetReference(frame);

        // Outer Ethernet II, at most one 802.1Q tag (length >= 42 covers the tag and the EtherType after it).
        int vlanCount = 0;
        ushort outerVlanId = 0;
        int off = 14;
        ushort etherType = ReadBe16(ref f, 12);
        if (etherType == EtherTypeVlan)
        {
            vlanCount = 1;
            outerVlanId = (ushort)(ReadBe16(ref f, 14) & 0x0FFF);
            etherType = ReadBe16(ref f, 16);
            off = 18;
        }

        // An outer IPv4 header with IHL 5 carrying UDP to a tunnel port other than VXLAN (Geneve, VXLAN-GPE,
        // GRE-in-UDP): the general path's, and known before anything is written.
        ref byte ip = ref Unsafe.Add(ref f, off);
        byte udpTunnel = UdpPlain;
        if (etherType == EtherTypeIPv4 && length - off >= 20 + 8 && ip == 0x45 && Unsafe.Add(ref ip, 9) == IpProtocol.Udp)
        {
            udpTunnel = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_udpTunnelByPort), ReadBe16(ref ip, 20 + 2));
            if (udpTunnel is not (UdpPlain or UdpVxlan))
            {
                return false;
            }
        }

        // As Decode starts; the fields are then written as the layers are read (registers are too few to hold them).
        Begin(ref packet, length);
        packet.OuterVlanId = outerVlanId;
        packet.InnerVlanId = outerVlanId;

        // VXLAN over IPv4: anything unusual in it declines.
        bool tunnel = false;
        if (udpTunnel == UdpVxlan)
        {
            int totalLength = ReadBe16(ref ip, 2);
            int udpLength = ReadBe16(ref ip, 20 + 4);

            // Outer packet captured whole, not a fragment; UDP length within the IP payload; VXLAN header and inner
            // Ethernet header captured; flags exactly I, every reserved byte zero; the depth limit allows a tunnel.
            if (totalLength < 20 + 8
                || length - off < totalLength
                || (ReadBe16(ref ip, 6) & 0x3FFF) != 0
                || udpLength < 8
                || udpLength > totalLength - 20
                || length - off < 20 + 8 + 8 + 14
                || ReadBe32(ref ip, 20 + 8) != 0x0800_0000
                || Unsafe.Add(ref ip, 20 + 8 + 7) != 0
                || _maxTunnelDepth < 1)
            {
                return false;
            }

            tunnel = true;
            packet.OuterIpVersion = 4;
            packet.OuterSource = IpAddress.FromV4Raw(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 12)));
            packet.OuterDestination = IpAddress.FromV4Raw(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 16)));
            packet.TunnelDepth = 1;
            packet.VnKind = VirtualNetworkKind.Vxlan;
            packet.VnId = ReadBe32(ref ip, 20 + 8 + 4) >> 8;

            // Inner Ethernet II (captured: checked above), at most one 802.1Q tag.
            etherType = ReadBe16(ref ip, 20 + 8 + 8 + 12);
            off += 20 + 8 + 8 + 14;
            if (etherType == EtherTypeVlan)
            {
                if (length - off < 4)
                {
                    return false;
                }

                ushort vid = (ushort)(ReadBe16(ref f, off) & 0x0FFF);
                if (++vlanCount == 1)
                {
                    packet.OuterVlanId = vid;
                }

                if (vid != 0)
                {
                    packet.InnerVlanId = vid;
                }

                etherType = ReadBe16(ref f, off + 2);
                off += 4;
            }
        }

        if (vlanCount > _maxTags)
        {
            return false;
        }

        packet.VlanCount = (byte)vlanCount;

        // The innermost IP header, its packet captured whole: so every transport read below is in range.
        packet.IpOffset = off;
        int payloadLength;
        byte protocol;
        if (etherType == EtherTypeIPv4)
        {
            if (length - off < 20)
            {
                return false;
            }

            ip = ref Unsafe.Add(ref f, off);
            if (ip != 0x45)
            {
                return false;
            }

            int totalLength = ReadBe16(ref ip, 2);
            if (totalLength < 20 || length - off < totalLength || (ReadBe16(ref ip, 6) & 0x3FFF) != 0)
            {
                return false;
            }

            protocol = Unsafe.Add(ref ip, 9);
            packet.IpVersion = 4;
            packet.IpLength = totalLength;
            packet.Ttl = Unsafe.Add(ref ip, 8);
            packet.Source = IpAddress.FromV4Raw(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 12)));
            packet.Destination = IpAddress.FromV4Raw(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 16)));
            payloadLength = totalLength - 20;
            off += 20;
        }
        else if (etherType == EtherTypeIPv6)
        {
            if (length - off < 40)
            {
                return false;
            }

            ip = ref Unsafe.Add(ref f, off);
            if (ip >> 4 != 6)
            {
                return false;
            }

            payloadLength = ReadBe16(ref ip, 4);
            if (length - off < 40 + payloadLength)
            {
                return false;
            }

            protocol = Unsafe.Add(ref ip, 6);
            packet.IpVersion = 6;
            packet.IpLength = 40 + payloadLength;
            packet.Ttl = Unsafe.Add(ref ip, 7);
            packet.Source = Unsafe.ReadUnaligned<IpAddress>(ref Unsafe.Add(ref ip, 8));
            packet.Destination = Unsafe.ReadUnaligned<IpAddress>(ref Unsafe.Add(ref ip, 24));
            off += 40;
        }
        else
        {
            return false;
        }

        packet.Protocol = protocol;
        packet.TransportOffset = off;
        if (!tunnel)
        {
            packet.OuterIpVersion = packet.IpVersion;
            packet.OuterSource = packet.Source;
            packet.OuterDestination = packet.Destination;
            if (packet.InnerVlanId != 0)
            {
                // Decode's rule: a VLAN names the network when no tunnel does.
                packet.VnKind = VirtualNetworkKind.Vlan;
                packet.VnId = packet.InnerVlanId;
            }
        }

        // The transport header, within payloadLength bytes, all captured. (A ref is only ever made to a byte in the
        // frame, never to the end of it.)
        ref byte l4 = ref Unsafe.NullRef<byte>();
        int headerLength;
        if (protocol == IpProtocol.Tcp)
        {
            if (payloadLength < 20)
            {
                return false;
            }

            l4 = ref Unsafe.Add(ref f, off);

            headerLength = (Unsafe.Add(ref l4, 12) >> 4) * 4;
            if (headerLength != 20)
            {
                if (headerLength < 20 || headerLength > payloadLength)
                {
                    return false;
                }

                if (headerLength == 32 && ReadBe32(ref l4, 20) == TcpNopNopTimestamp)
                {
                    packet.Flags = PacketFlags.HasTcpOptions;
                    packet.TcpTsVal = ReadBe32(ref l4, 24);
                    packet.TcpTsEcr = ReadBe32(ref l4, 28);
                }
                else
                {
                    // Any other options (a handshake's MSS, window scale, SACK-permitted): the general path's parser,
                    // over the same bytes (the whole IP packet is captured, so all headerLength bytes are there).
                    ParseTcpOptions(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref l4, 20), headerLength - 20), ref packet);
                }
            }

            packet.TcpSequence = ReadBe32(ref l4, 4);
            packet.TcpAcknowledgement = ReadBe32(ref l4, 8);
            packet.TcpFlags = (TcpFlags)Unsafe.Add(ref l4, 13);
            packet.TcpWindow = ReadBe16(ref l4, 14);
        }
        else if (protocol == IpProtocol.Udp)
        {
            if (payloadLength < 8)
            {
                return false;
            }

            l4 = ref Unsafe.Add(ref f, off);
            int udpLength = ReadBe16(ref l4, 4);
            if (udpLength < 8
                || udpLength > payloadLength
                || Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_udpTunnelByPort), ReadBe16(ref l4, 2)) != UdpPlain)
            {
                return false;
            }

            headerLength = 8;
        }
        else
        {
            return false;
        }

        packet.SourcePort = ReadBe16(ref l4, 0);
        packet.DestinationPort = ReadBe16(ref l4, 2);
        packet.Flags |= PacketFlags.HasTransport;
        packet.PayloadOffset = off + headerLength;
        packet.PayloadLength = payloadLength - headerLength;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort ReadBe16(ref byte frame, int offset)
    {
        ushort v = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref frame, offset));
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(v) : v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadBe32(ref byte frame, int offset)
    {
        uint v = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref frame, offset));
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(v) : v;
    }
}
