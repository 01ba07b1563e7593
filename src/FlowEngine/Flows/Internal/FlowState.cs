// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
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
/// Counters of one direction of a flow. Packet sizes keep exact integer moments (the byte count and the sum of
/// squares): for integer data they give the exact variance, which Welford's update only approximates; inter-arrival
/// times (microseconds) use Welford's update.
/// </summary>
// Pack = 4: 60 bytes, so two directions and the flow's small fields fill two cache lines of a FlowEntry exactly;
// every 8-byte field still starts at a multiple of 8 within the entry.
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct DirectionCounters
{
    public ulong Bytes;
    public ulong Payload;
    public ulong SizeSquares;
    public double IatMean;
    public double IatM2;
    public uint Packets;
    public uint LastUs;
    public uint IatMin;
    public uint IatMax;
    public ushort SizeMin;
    public ushort SizeMax;

    /// <summary>Counts one packet sent in this direction at <paramref name="offsetUs"/> after the flow's first packet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(uint size, ulong payload, uint offsetUs)
    {
        ushort size16 = (ushort)Math.Min(size, ushort.MaxValue);
        if (Packets == 0)
        {
            SizeMin = size16;
        }
        else
        {
            // Welford: sample number Packets of the inter-arrival series.
            uint gap = offsetUs - LastUs;
            double x = gap;
            double delta = x - IatMean;
            IatMean += delta / Packets;
            IatM2 += delta * (x - IatMean);
            IatMin = Packets == 1 ? gap : Math.Min(IatMin, gap);
            IatMax = Math.Max(IatMax, gap);
        }

        LastUs = offsetUs;
        Packets++;
        Bytes += size;
        Payload += payload;
        SizeSquares += (ulong)size * size;
        SizeMin = Math.Min(SizeMin, size16);
        SizeMax = Math.Max(SizeMax, size16);
    }

    /// <summary>Mean and exact sample variance of the packet sizes.</summary>
    public readonly (double Mean, double Variance) SizeMoments()
    {
        if (Packets == 0)
        {
            return (0, 0);
        }

        double mean = (double)Bytes / Packets;
        if (Packets < 2)
        {
            return (mean, 0);
        }

        // n * sum(x^2) - (sum x)^2 over n (n - 1), in 128-bit integers.
        UInt128 numerator = ((UInt128)Packets * SizeSquares) - ((UInt128)Bytes * Bytes);
        return (mean, (double)numerator / ((double)Packets * (Packets - 1)));
    }

    /// <summary>Mean and sample variance of the inter-arrival times (Packets - 1 samples).</summary>
    public readonly (double Mean, double Variance) IatMoments()
        => (Packets > 1 ? IatMean : 0, Packets > 2 ? IatM2 / (Packets - 2) : 0);
}

/// <summary>
/// Mutable per-flow state that a packet updates, one per table slot (144 bytes). "Forward" is the originator's
/// direction. Fields that change only when a flow starts are in <see cref="FlowColdState"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FlowState
{
    public long FirstNs;
    public long LastNs;
    public DirectionCounters Forward;
    public bool OriginatorIsA;
    public bool IsContinuation;
    public byte FirstPacketCount;
    public byte TunnelDepth;
    public DirectionCounters Reverse;
    public byte ForwardTcpFlags;
    public byte ReverseTcpFlags;
    public TcpEndpointState OriginatorState;
    public TcpEndpointState ResponderState;
}

/// <summary>
/// A table slot's key and state: 192 bytes, three whole cache lines of a 64-byte aligned column, so a packet of a
/// known flow touches its bucket's tags and these three lines.
/// <code>
///   line 0: key (48) | FirstNs | LastNs
///   line 1: Forward counters (60) | originator, continuation, first-packet count, tunnel depth
///   line 2: Reverse counters (60) | TCP flags of each direction, TCP state of each endpoint
/// </code>
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FlowEntry
{
    public FlowKey Key;
    public FlowState State;
}

/// <summary>
/// The fields of a slot that are written when its flow starts (and for its first packets) and read when it leaves:
/// a column of their own, off the per-packet path (32 bytes). The outer (tunnel endpoint) addresses of an IPv4
/// underlay are kept here; an IPv6 underlay's pair is interned by the table and referenced by index.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FlowColdState
{
    public FirstPacketSizes FirstPackets;
    public ushort VlanId;
    public ushort EndpointIndex;
    public uint OuterSourceV4;
    public uint OuterDestinationV4;
    public byte OuterIpVersion;
}
