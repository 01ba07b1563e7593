// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>Sizes of the first packets of a flow: positive from the originator, negative from the responder.</summary>
[InlineArray(FlowRecord.FirstPacketsTracked)]
public struct FirstPacketSizes
{
    private short _element;
}

/// <summary>
/// One flow as it leaves the flow table: a blittable struct, documented field by field in docs/flow-record.md.
/// "Forward" is the direction of the originator (the sender of the first packet; for TCP the sender of the SYN).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct FlowRecord
{
    /// <summary>How many first packets are recorded in <see cref="FirstPackets"/>.</summary>
    public const int FirstPacketsTracked = 8;

    /// <summary>Originator address (innermost IP header).</summary>
    public IpAddress SourceAddress;

    /// <summary>Responder address.</summary>
    public IpAddress DestinationAddress;

    /// <summary>Outer (underlay) source address of the first packet; equal to <see cref="SourceAddress"/> without a tunnel.</summary>
    public IpAddress OuterSourceAddress;

    /// <summary>Outer (underlay) destination address of the first packet.</summary>
    public IpAddress OuterDestinationAddress;

    /// <summary>Timestamp of the first packet, nanoseconds since the Unix epoch.</summary>
    public long FirstNs;

    /// <summary>Timestamp of the last packet, nanoseconds since the Unix epoch.</summary>
    public long LastNs;

    /// <summary>IP-layer bytes from the originator (sum of innermost IP total lengths, as Zeek's orig_ip_bytes).</summary>
    public ulong ForwardBytes;

    /// <summary>IP-layer bytes from the responder.</summary>
    public ulong ReverseBytes;

    /// <summary>Transport payload bytes from the originator (TCP/UDP payload as the headers claim; retransmissions included).</summary>
    public ulong ForwardPayloadBytes;

    /// <summary>Transport payload bytes from the responder.</summary>
    public ulong ReversePayloadBytes;

    /// <summary>Mean IP packet size from the originator.</summary>
    public double ForwardSizeMean;

    /// <summary>Sample variance of IP packet size from the originator (0 below two packets).</summary>
    public double ForwardSizeVariance;

    /// <summary>Mean IP packet size from the responder.</summary>
    public double ReverseSizeMean;

    /// <summary>Sample variance of IP packet size from the responder.</summary>
    public double ReverseSizeVariance;

    /// <summary>Mean inter-arrival time between consecutive originator packets, microseconds.</summary>
    public double ForwardIatMeanUs;

    /// <summary>Sample variance of originator inter-arrival time, microseconds squared.</summary>
    public double ForwardIatVarianceUs2;

    /// <summary>Mean inter-arrival time between consecutive responder packets, microseconds.</summary>
    public double ReverseIatMeanUs;

    /// <summary>Sample variance of responder inter-arrival time, microseconds squared.</summary>
    public double ReverseIatVarianceUs2;

    /// <summary>Virtual network identifier (VLAN id, VNI or GRE key).</summary>
    public uint VnId;

    /// <summary>Packets from the originator.</summary>
    public uint ForwardPackets;

    /// <summary>Packets from the responder.</summary>
    public uint ReversePackets;

    /// <summary>Smallest originator inter-arrival time, microseconds (0 below two packets).</summary>
    public uint ForwardIatMinUs;

    /// <summary>Largest originator inter-arrival time, microseconds.</summary>
    public uint ForwardIatMaxUs;

    /// <summary>Smallest responder inter-arrival time, microseconds.</summary>
    public uint ReverseIatMinUs;

    /// <summary>Largest responder inter-arrival time, microseconds.</summary>
    public uint ReverseIatMaxUs;

    /// <summary>Originator port; for ICMP the type of the originator's first message.</summary>
    public ushort SourcePort;

    /// <summary>Responder port; for ICMP the counterpart type (echo and other request/reply pairs) or the code.</summary>
    public ushort DestinationPort;

    /// <summary>ICMP identifier of echo-like flows, 0 otherwise.</summary>
    public ushort IcmpId;

    /// <summary>Smallest originator IP packet, bytes (0 without packets).</summary>
    public ushort ForwardSizeMin;

    /// <summary>Largest originator IP packet, bytes.</summary>
    public ushort ForwardSizeMax;

    /// <summary>Smallest responder IP packet, bytes.</summary>
    public ushort ReverseSizeMin;

    /// <summary>Largest responder IP packet, bytes.</summary>
    public ushort ReverseSizeMax;

    /// <summary>Outer VLAN id of the first packet, 0 when untagged.</summary>
    public ushort VlanId;

    /// <summary>Kind of <see cref="VnId"/>.</summary>
    public VirtualNetworkKind VnKind;

    /// <summary>IP version, 4 or 6.</summary>
    public byte IpVersion;

    /// <summary>IP version of the outer addresses (equal to <see cref="IpVersion"/> without a tunnel).</summary>
    public byte OuterIpVersion;

    /// <summary>IP protocol (IANA number).</summary>
    public byte Protocol;

    /// <summary>Tunnel encapsulations around the first packet.</summary>
    public byte TunnelDepth;

    /// <summary>Union of TCP flags sent by the originator.</summary>
    public TcpFlags ForwardTcpFlags;

    /// <summary>Union of TCP flags sent by the responder.</summary>
    public TcpFlags ReverseTcpFlags;

    /// <summary>Connection state with Zeek's conn_state meanings (TCP; <see cref="ConnectionState.Oth"/> otherwise).</summary>
    public ConnectionState State;

    /// <summary>Why the flow left the table.</summary>
    public FlowEndReason EndReason;

    /// <summary>Number of valid entries in <see cref="FirstPackets"/>.</summary>
    public byte FirstPacketCount;

    /// <summary>True when the record continues a flow already reported with <see cref="FlowEndReason.ActiveTimeout"/>.</summary>
    public bool IsContinuation;

    /// <summary>IP sizes of the first packets: positive from the originator, negative from the responder.</summary>
    public FirstPacketSizes FirstPackets;

    /// <summary>Duration from first to last packet.</summary>
    public readonly TimeSpan Duration => TimeSpan.FromTicks((LastNs - FirstNs) / 100);

    /// <summary>The virtual network.</summary>
    public readonly VirtualNetworkId VirtualNetwork => new(VnKind, VnId);
}
