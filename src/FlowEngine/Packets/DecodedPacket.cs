// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Packets;

/// <summary>
/// What the decoder learned from one frame: the virtual network, the outermost and innermost IP headers,
/// the innermost transport header, lengths and offsets. A blittable struct filled in place by
/// <see cref="PacketDecoder.Decode"/>; offsets index the frame that was decoded.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct DecodedPacket
{
    /// <summary>Capture timestamp, nanoseconds since the Unix epoch (set by the packet source, not the decoder).</summary>
    public long TimestampNs;

    /// <summary>Innermost source address.</summary>
    public IpAddress Source;

    /// <summary>Innermost destination address.</summary>
    public IpAddress Destination;

    /// <summary>Outermost source address (equal to <see cref="Source"/> without a tunnel).</summary>
    public IpAddress OuterSource;

    /// <summary>Outermost destination address (equal to <see cref="Destination"/> without a tunnel).</summary>
    public IpAddress OuterDestination;

    /// <summary>Virtual network identifier (VLAN id, VNI or GRE key); 0 when <see cref="VnKind"/> is None.</summary>
    public uint VnId;

    /// <summary>TCP sequence number.</summary>
    public uint TcpSequence;

    /// <summary>TCP acknowledgement number.</summary>
    public uint TcpAcknowledgement;

    /// <summary>TCP timestamp value (option 8), when <see cref="PacketFlags.HasTcpOptions"/> and present.</summary>
    public uint TcpTsVal;

    /// <summary>TCP timestamp echo reply (option 8).</summary>
    public uint TcpTsEcr;

    /// <summary>IPv4 identification or IPv6 fragment identification.</summary>
    public uint FragmentId;

    /// <summary>Bytes of the innermost IP packet as its header claims (IPv4 total length, IPv6 40 + payload length).</summary>
    public int IpLength;

    /// <summary>Offset of the innermost IP header in the frame.</summary>
    public int IpOffset;

    /// <summary>Offset of the innermost transport header in the frame (valid with <see cref="PacketFlags.HasTransport"/>).</summary>
    public int TransportOffset;

    /// <summary>Offset of the transport payload in the frame.</summary>
    public int PayloadOffset;

    /// <summary>Transport payload bytes as the headers claim (may exceed what was captured).</summary>
    public int PayloadLength;

    /// <summary>Offset of the first Geneve option of the innermost Geneve header (with <see cref="PacketFlags.HasGeneveOptions"/>).</summary>
    public int GeneveOptionsOffset;

    /// <summary>Length in bytes of the Geneve options.</summary>
    public int GeneveOptionsLength;

    /// <summary>Bytes captured of this frame.</summary>
    public int CapturedLength;

    /// <summary>Bytes the frame had on the wire.</summary>
    public int WireLength;

    /// <summary>Source port, or for ICMP the type of this packet.</summary>
    public ushort SourcePort;

    /// <summary>Destination port, or for ICMP the counterpart type (request/reply pairs) or the code.</summary>
    public ushort DestinationPort;

    /// <summary>ICMP identifier for echo-like messages; 0 otherwise.</summary>
    public ushort IcmpId;

    /// <summary>TCP window (unscaled).</summary>
    public ushort TcpWindow;

    /// <summary>TCP MSS option, 0 when absent.</summary>
    public ushort TcpMss;

    /// <summary>IPv4 fragment offset in bytes, or IPv6 fragment offset in bytes.</summary>
    public ushort FragmentOffset;

    /// <summary>Outermost 802.1Q/802.1ad VLAN id, 0 when untagged.</summary>
    public ushort OuterVlanId;

    /// <summary>Innermost VLAN id seen in the frame at any depth, 0 when untagged.</summary>
    public ushort InnerVlanId;

    /// <summary>Facts about the packet.</summary>
    public PacketFlags Flags;

    /// <summary>Kind of <see cref="VnId"/>.</summary>
    public VirtualNetworkKind VnKind;

    /// <summary>Innermost IP version (4 or 6); 0 when rejected before an IP header.</summary>
    public byte IpVersion;

    /// <summary>Outermost IP version.</summary>
    public byte OuterIpVersion;

    /// <summary>Innermost IP protocol (IANA number; for IPv6 the upper-layer protocol after extension headers).</summary>
    public byte Protocol;

    /// <summary>Number of tunnel encapsulations removed (VXLAN, Geneve, GRE, IP-in-IP).</summary>
    public byte TunnelDepth;

    /// <summary>Number of VLAN tags seen at any depth.</summary>
    public byte VlanCount;

    /// <summary>TCP flags.</summary>
    public TcpFlags TcpFlags;

    /// <summary>ICMP or ICMPv6 code.</summary>
    public byte IcmpCode;

    /// <summary>TCP window scale option, 0xFF when absent.</summary>
    public byte TcpWindowScale;

    /// <summary>True when the SYN carried SACK-permitted.</summary>
    public bool TcpSackPermitted;

    /// <summary>IPv4 TTL or IPv6 hop limit of the innermost IP header.</summary>
    public byte Ttl;

    /// <summary>Why the packet was rejected, or <see cref="RejectReason.None"/>.</summary>
    public RejectReason Reject;

    /// <summary>The virtual network as a value.</summary>
    public readonly VirtualNetworkId VirtualNetwork => new(VnKind, VnId);

    /// <summary>True when the transport header (ports or ICMP type) is known.</summary>
    public readonly bool HasTransport => (Flags & PacketFlags.HasTransport) != 0;
}
