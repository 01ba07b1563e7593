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
/// Counters of one direction of a flow. Packet sizes and inter-arrival times (whole microseconds) keep exact integer
/// moments: a sum and a sum of squares give the exact variance, which Welford's update only approximates, and cost
/// an add and a multiply per packet instead of Welford's division. The inter-arrival sum needs no field of its own:
/// the gaps of a direction add up to its last packet's offset minus its first's.
/// </summary>
/// <remarks>
/// The sum of squared gaps cannot overflow: offsets are microseconds since the flow's first packet and a flow
/// is cut at the active timeout (at most an hour), so the gaps add up to less than 3.6e9 and the sum of their
/// squares to less than (3.6e9)^2, below 2^64.
/// </remarks>
// Pack = 4: 56 bytes, so two directions and the flow's small fields fit two cache lines of a FlowEntry; every
// 8-byte field still starts at a multiple of 8 within the entry.
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct DirectionCounters
{
    public ulong Bytes;
    public ulong Payload;
    public ulong SizeSquares;
    public ulong IatSquares;
    public uint Packets;
    public uint FirstUs;
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
            FirstUs = offsetUs;
        }
        else
        {
            uint gap = offsetUs - LastUs;
            IatSquares += (ulong)gap * gap;
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

    /// <summary>Mean and exact sample variance of the inter-arrival times (Packets - 1 samples).</summary>
    public readonly (double Mean, double Variance) IatMoments()
    {
        if (Packets < 2)
        {
            return (0, 0);
        }

        ulong gaps = Packets - 1u;
        ulong sum = LastUs - FirstUs;
        double mean = (double)sum / gaps;
        if (gaps < 2)
        {
            return (mean, 0);
        }

        UInt128 numerator = ((UInt128)gaps * IatSquares) - ((UInt128)sum * sum);
        return (mean, (double)numerator / ((double)gaps * (gaps - 1)));
    }
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

    // The active mask of the table's extensions (0: no extension wants this flow's packets).
    public uint ExtensionMask;
    public DirectionCounters Reverse;
    public byte ForwardTcpFlags;
    public byte ReverseTcpFlags;
    public TcpEndpointState OriginatorState;
    public TcpEndpointState ResponderState;

    // The flow's mark (IFlowMarks): read per packet by the inline path from this line, which TCP packets touch anyway.
    public uint Mark;
}

/// <summary>
/// A table slot's key and state: 192 bytes, three whole cache lines of a 64-byte aligned column, so a packet of a
/// known flow touches its bucket's tags and these three lines.
/// <code>
///   line 0: key (48) | FirstNs | LastNs
///   line 1: Forward counters (56) | originator, continuation, first-packet count, tunnel depth | extension mask (4)
///   line 2: Reverse counters (56) | TCP flags of each direction, TCP state of each endpoint | mark (4)
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

    // Bits 0-7: the outer IP version; bits 8-31: the slot's generation, advanced for every flow that starts in it.
    private uint _versionAndGeneration;

    public byte OuterIpVersion
    {
        readonly get => (byte)_versionAndGeneration;
        set => _versionAndGeneration = (_versionAndGeneration & ~0xFFu) | value;
    }

    public uint Generation
    {
        readonly get => _versionAndGeneration >> 8;
        set => _versionAndGeneration = (_versionAndGeneration & 0xFFu) | (value << 8);
    }
}
