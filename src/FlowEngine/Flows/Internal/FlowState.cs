// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Flows.Internal;

/// <summary>TCP endpoint states, as Zeek's TCP analyzer names them.</summary>
internal enum TcpEndpointState : byte
{
    Inactive = 0,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// <summary>
/// Mutable per-flow counters, one per table slot. "Forward" is the originator's direction.
/// Packet sizes keep exact integer moments (sum is the byte counter, plus the sum of squares): for integer data
/// they give the exact variance, which Welford's update only approximates; inter-arrival times use Welford's update.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FlowState
{
    public long FirstNs;
    public long LastNs;
    public ulong ForwardBytes;
    public ulong ReverseBytes;
    public ulong ForwardPayload;
    public ulong ReversePayload;
    public ulong ForwardSizeSquares;
    public ulong ReverseSizeSquares;
    public double ForwardIatMean;
    public double ForwardIatM2;
    public double ReverseIatMean;
    public double ReverseIatM2;
    public uint LastForwardUs;
    public uint LastReverseUs;
    public uint ForwardPackets;
    public uint ReversePackets;
    public uint ForwardIatMin;
    public uint ForwardIatMax;
    public uint ReverseIatMin;
    public uint ReverseIatMax;
    public ushort ForwardSizeMin;
    public ushort ForwardSizeMax;
    public ushort ReverseSizeMin;
    public ushort ReverseSizeMax;
    public FirstPacketSizes FirstPackets;
    public ushort VlanId;
    public ushort EndpointIndex;
    public bool OriginatorIsA;
    public byte ForwardTcpFlags;
    public byte ReverseTcpFlags;
    public TcpEndpointState OriginatorState;
    public TcpEndpointState ResponderState;
    public byte FirstPacketCount;
    public byte TunnelDepth;
    public bool IsContinuation;
}
