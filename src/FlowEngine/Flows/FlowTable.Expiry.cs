// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Flows.Internal;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>The table's clock: packet time, the expiry wheel, timeouts and the end of input.</summary>
public partial class FlowTable<TExtension>
{
    /// <summary>
    /// Moves packet time to <paramref name="nowNs"/> (never backwards) and expires the flows that are due: idle,
    /// closed TCP past the linger, and active past the active timeout. Call once per batch.
    /// </summary>
    /// <remarks>
    /// Expiry runs on a timer wheel of one-second buckets. A flow is scheduled when it is created and rescheduled
    /// only when its bucket comes due, so packets never touch the wheel. Flows due in the same second leave in the
    /// order they were scheduled, which depends only on the packets: replaying a capture emits the same records in
    /// the same order, whatever the hash seed.
    /// </remarks>
    /// <param name="nowNs">Packet time, nanoseconds since the Unix epoch.</param>
    public void Advance(long nowNs)
    {
        if (nowNs > _nowNs)
        {
            _nowNs = nowNs;
        }

        if (_wheelSecond == long.MinValue)
        {
            if (_nowNs != long.MinValue)
            {
                _wheelSecond = _nowNs / WheelTickNs;
                _nextTickNs = (_wheelSecond + 1) * WheelTickNs;
            }

            return;
        }

        long target = _nowNs / WheelTickNs;
        for (int steps = 0; _wheelSecond < target && steps < WheelBuckets; steps++)
        {
            ExpireBucket((int)(_wheelSecond & (WheelBuckets - 1)));
            _wheelSecond++;
        }

        // A jump longer than the wheel: every bucket was visited once above, so every flow was either expired
        // or rescheduled for a deadline after now.
        if (_wheelSecond < target)
        {
            _wheelSecond = target;
        }

        _nextTickNs = (_wheelSecond + 1) * WheelTickNs;
        Deliver();
    }

    // Moves packet time to a packet's timestamp. Crossing into a new second runs the wheel before the packet is
    // accounted, so flows expire at the same packet whatever the batch boundaries are.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Tick(long timestampNs)
    {
        if (timestampNs > _nowNs)
        {
            _nowNs = timestampNs;
            if (timestampNs >= _nextTickNs)
            {
                Advance(timestampNs);
            }
        }
    }

    /// <summary>
    /// Emits every flow with <see cref="FlowEndReason.EndOfInput"/>, in deadline order, empties the table, delivers
    /// the records and flushes the sink.
    /// </summary>
    public void Flush()
    {
        for (int i = 0; i < WheelBuckets; i++)
        {
            int sentinel = SentinelFromNow(i);
            int slot = _next[sentinel];
            while (slot != sentinel)
            {
                int following = _next[slot];
                Emit(slot, FlowEndReason.EndOfInput);
                _tags[slot] = 0;
                slot = following;
            }

            _next[sentinel] = sentinel;
            _prev[sentinel] = sentinel;
        }

        _overflow.AsSpan().Clear();
        _count = 0;
        Deliver();
        _sink.Flush();
    }

    private void ExpireBucket(int bucket)
    {
        int sentinel = Capacity + bucket;

        // Detach the list first: rescheduled flows go to later buckets (their deadlines are after now).
        int slot = _next[sentinel];
        int last = _prev[sentinel];
        _next[sentinel] = sentinel;
        _prev[sentinel] = sentinel;
        if (slot == sentinel)
        {
            return;
        }

        _next[last] = -1;
        while (slot >= 0)
        {
            int following = _next[slot];
            ref FlowState s = ref _entries[slot].State;
            byte protocol = _entries[slot].Key.Protocol;
            bool ended = IsTcpEnded(ref s);
            long idleDeadline = s.LastNs + (ended ? _lingerNs : IdleTimeoutNs(protocol));
            long activeDeadline = s.FirstNs + _activeNs;

            // The reason is the deadline that came first, not how late this batch noticed it, so records do not
            // depend on batch sizes.
            if (activeDeadline < idleDeadline && activeDeadline <= _nowNs)
            {
                Emit(slot, FlowEndReason.ActiveTimeout);
                ContinueState(slot, s.LastNs);
                Schedule(slot, s.LastNs + (ended ? _lingerNs : IdleTimeoutNs(protocol)));
            }
            else if (idleDeadline <= _nowNs)
            {
                Emit(slot, ended ? FlowEndReason.TcpEnd : FlowEndReason.IdleTimeout);
                Remove(slot);
            }
            else
            {
                Schedule(slot, Math.Min(idleDeadline, activeDeadline));
            }

            slot = following;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Schedule(int slot, long deadlineNs)
    {
        // A deadline before the wheel's next step is due at that step.
        long second = Math.Max(deadlineNs / WheelTickNs, _wheelSecond);
        int sentinel = Capacity + (int)(second & (WheelBuckets - 1));
        int tail = _prev[sentinel];
        _next[tail] = slot;
        _prev[slot] = tail;
        _next[slot] = sentinel;
        _prev[sentinel] = slot;
    }

    // The sentinel of the wheel bucket <paramref name="ahead"/> seconds after the current one: walking ahead from 0
    // visits flows in deadline order.
    private int SentinelFromNow(int ahead)
        => Capacity + (int)(((_wheelSecond == long.MinValue ? 0 : _wheelSecond) + ahead) & (WheelBuckets - 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Unschedule(int slot)
    {
        int next = _next[slot], prev = _prev[slot];
        _next[prev] = next;
        _prev[next] = prev;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long IdleTimeoutNs(byte protocol)
        => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_idleNsByProtocol), protocol); // 256 entries: any byte is in range

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsTcpEnded(ref FlowState s)
        => s.OriginatorState == TcpEndpointState.Reset || s.ResponderState == TcpEndpointState.Reset
        || (s.OriginatorState == TcpEndpointState.Closed && s.ResponderState == TcpEndpointState.Closed);

    private bool IsRestart(ref FlowState s, ref FlowKey key, in DecodedPacket p, long ts, out FlowEndReason reason)
    {
        long idle = ts - s.LastNs;
        if (key.Protocol == IpProtocol.Tcp && IsTcpEnded(ref s))
        {
            if (idle > _lingerNs || (p.TcpFlags & (TcpFlags.Syn | TcpFlags.Ack)) == TcpFlags.Syn)
            {
                reason = idle > _lingerNs ? FlowEndReason.TcpEnd : FlowEndReason.Reused;
                return true;
            }
        }
        else if (idle > IdleTimeoutNs(key.Protocol))
        {
            reason = FlowEndReason.IdleTimeout;
            return true;
        }

        reason = default;
        return false;
    }
}
