// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Flows.Internal;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>The table's per-packet accounting: flow state at start and continuation, counters, TCP state.</summary>
public partial class FlowTable<TExtension>
{
    private void InitState(int slot, in DecodedPacket p, bool sourceIsA, long ts)
    {
        ref FlowState s = ref _entries[slot].State;
        s = default;
        s.FirstNs = ts;
        s.LastNs = ts;

        // The originator sends the first packet; a SYN-ACK seen first was answering the other side's SYN.
        bool synAck = p.Protocol == IpProtocol.Tcp && (p.TcpFlags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack);
        s.OriginatorIsA = sourceIsA != synAck;
        s.TunnelDepth = p.TunnelDepth;
        ref FlowColdState cold = ref _cold[slot];
        uint generation = cold.Generation + 1;
        cold = default;
        cold.Generation = generation;
        cold.VlanId = p.OuterVlanId;
        cold.EndpointIndex = ushort.MaxValue;
        if (p.TunnelDepth != 0)
        {
            // Outer addresses in the originator's direction: an IPv4 pair in place, an IPv6 pair interned.
            cold.OuterIpVersion = p.OuterIpVersion;
            if (p.OuterIpVersion == 4)
            {
                cold.OuterSourceV4 = (synAck ? p.OuterDestination : p.OuterSource).V4Raw;
                cold.OuterDestinationV4 = (synAck ? p.OuterSource : p.OuterDestination).V4Raw;
            }
            else
            {
                cold.EndpointIndex = InternEndpoints(in p, synAck);
            }
        }
    }

    private void ContinueState(int slot, long ts)
    {
        // Keep the key, the originator, the TCP state and where the flow was seen; start new counters.
        ref FlowState s = ref _entries[slot].State;
        FlowState kept = s;
        s = default;
        s.FirstNs = ts;
        s.LastNs = ts;
        s.OriginatorIsA = kept.OriginatorIsA;
        s.TunnelDepth = kept.TunnelDepth;
        s.OriginatorState = kept.OriginatorState;
        s.ResponderState = kept.ResponderState;
        s.ExtensionMask = kept.ExtensionMask;
        s.Mark = kept.Mark;
        s.IsContinuation = true;
        _cold[slot].FirstPackets = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Account(ref FlowState s, int slot, in DecodedPacket p, bool forward, long ts)
    {
        s.LastNs = ts;
        if (s.IsContinuation && s.Forward.Packets == 0 && s.Reverse.Packets == 0)
        {
            // The first packet of a continuation starts its record.
            s.FirstNs = ts;
        }

        // Microseconds since the first packet: fits 32 bits because the active timeout is at most an hour.
        uint offsetUs = (uint)((ts - s.FirstNs) / 1000);
        uint size = (uint)p.IpLength;
        ulong payload = (ulong)Math.Max(p.PayloadLength, 0);
        if (s.FirstPacketCount < FlowRecord.FirstPacketsTracked)
        {
            short signed = (short)Math.Min(size, (uint)short.MaxValue);
            _cold[slot].FirstPackets[s.FirstPacketCount++] = forward ? signed : (short)-signed;
        }

        (forward ? ref s.Forward : ref s.Reverse).Add(size, payload, offsetUs);

        if (p.Protocol == IpProtocol.Tcp && (p.Flags & PacketFlags.HasTransport) != 0)
        {
            UpdateTcp(ref s, p.TcpFlags, forward);
        }
    }

    private static void UpdateTcp(ref FlowState s, TcpFlags flags, bool forward)
    {
        ref TcpEndpointState self = ref forward ? ref s.OriginatorState : ref s.ResponderState;
        ref TcpEndpointState peer = ref forward ? ref s.ResponderState : ref s.OriginatorState;
        (forward ? ref s.ForwardTcpFlags : ref s.ReverseTcpFlags) |= (byte)flags;
        if ((flags & TcpFlags.Rst) != 0)
        {
            self = TcpEndpointState.Reset;
            return;
        }

        if ((flags & TcpFlags.Fin) != 0)
        {
            if (self != TcpEndpointState.Reset)
            {
                self = TcpEndpointState.Closed;
            }

            return;
        }

        bool syn = (flags & TcpFlags.Syn) != 0;
        bool ack = (flags & TcpFlags.Ack) != 0;
        if (syn && !ack)
        {
            if (self == TcpEndpointState.Inactive)
            {
                self = TcpEndpointState.SynSent;
            }
        }
        else if (syn)
        {
            if (self == TcpEndpointState.Inactive)
            {
                self = peer == TcpEndpointState.SynSent ? TcpEndpointState.Established : TcpEndpointState.SynAckSent;
            }
        }
        else if (self == TcpEndpointState.Inactive)
        {
            self = TcpEndpointState.Partial;
        }
        else if (self == TcpEndpointState.SynSent && peer is TcpEndpointState.Established or TcpEndpointState.SynAckSent)
        {
            self = TcpEndpointState.Established;
            peer = TcpEndpointState.Established;
        }
    }

    // Zeek's conn_state, from the two endpoint states and the payload seen.
    private static ConnectionState ConnectionStateOf(ref FlowState s, byte protocol)
    {
        if (protocol != IpProtocol.Tcp)
        {
            return ConnectionState.Oth;
        }

        TcpEndpointState os = s.OriginatorState, rs = s.ResponderState;
        bool oInactive = os is TcpEndpointState.Inactive or TcpEndpointState.Partial;
        bool rInactive = rs is TcpEndpointState.Inactive or TcpEndpointState.Partial;
        if (rs == TcpEndpointState.Reset)
        {
            if (os is TcpEndpointState.SynSent or TcpEndpointState.SynAckSent
                || (os == TcpEndpointState.Reset && s.Forward.Payload == 0 && s.Reverse.Payload == 0))
            {
                return ConnectionState.Rej;
            }

            return oInactive ? ConnectionState.Rstrh : ConnectionState.Rstr;
        }

        if (os == TcpEndpointState.Reset)
        {
            return rInactive ? ConnectionState.Rstos0 : ConnectionState.Rsto;
        }

        if (rs == TcpEndpointState.Closed && os == TcpEndpointState.Closed)
        {
            return ConnectionState.SF;
        }

        if (os == TcpEndpointState.Closed)
        {
            return rInactive ? ConnectionState.SH : ConnectionState.S2;
        }

        if (rs == TcpEndpointState.Closed)
        {
            return oInactive ? ConnectionState.Shr : ConnectionState.S3;
        }

        if (os == TcpEndpointState.SynSent && rs == TcpEndpointState.Inactive)
        {
            return ConnectionState.S0;
        }

        if (os == TcpEndpointState.Established && rs == TcpEndpointState.Established)
        {
            return ConnectionState.S1;
        }

        return ConnectionState.Oth;
    }
}
