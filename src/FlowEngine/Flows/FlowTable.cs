// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using FlowEngine.Flows.Internal;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>
/// The flow table of one worker: single writer, no locks. Open addressing over buckets of eight slots whose
/// 32-bit tags are compared with one SIMD instruction; keys and counters live in separate pinned columns
/// (struct of arrays), sized once for <see cref="FlowTableOptions.MaxFlows"/>. Every flow leaves through the
/// <see cref="IFlowSink"/> with its <see cref="FlowEndReason"/>; none is dropped silently.
/// </summary>
/// <remarks>
/// Probing is linear over buckets. Each bucket keeps a saturating count of entries that probed past it (the
/// F14 "outbound overflow" idea), so a lookup stops at the first bucket that no entry overflowed, and removal
/// needs no tombstones. Keys are hashed with CRC32C (hardware where available) under a random per-process seed,
/// so an attacker who chooses addresses cannot aim at one bucket chain.
/// </remarks>
public sealed class FlowTable : IDisposable
{
    private const int BucketSlots = 8;
    private const int MaxProbeBuckets = 32;
    private const int FragmentCacheSize = 4096;
    private const int WheelBuckets = 4096;
    private const long WheelTickNs = 1_000_000_000;
    private const int Group = 16; // packets per stage of UpdateBatch

    private static readonly uint s_seed = CreateSeed();

    private readonly NativeRegion _region;
    private readonly NativeColumn<uint> _tags;
    private readonly NativeColumn<FlowEntry> _entries;
    private readonly NativeColumn<FlowColdState> _cold;
    private readonly NativeColumn<byte> _overflow;

    // Expiry timer wheel: one bucket per second of packet time, 4096 buckets (longer than any timeout), each a
    // circular doubly linked list threaded through _next/_prev; indices Capacity.. are the buckets' sentinels.
    private readonly NativeColumn<int> _next;
    private readonly NativeColumn<int> _prev;
    private readonly FragmentEntry[] _fragments;
    private readonly IFlowSink _sink;
    private readonly Dictionary<EndpointPair, ushort> _endpointIndex;
    private readonly List<EndpointPair> _endpoints;
    private readonly int _bucketMask;
    private readonly int _maxFlows;
    private readonly long[] _idleNsByProtocol = new long[256];
    private readonly long _activeNs;
    private readonly long _lingerNs;
    private readonly uint _seed;

    private int _count;
    private long _nowNs = long.MinValue;
    private long _wheelSecond = long.MinValue;
    private long _nextTickNs = long.MinValue;
    private FlowTableStatistics _statistics;

    /// <summary>Creates a table and allocates all its memory.</summary>
    /// <param name="options">Settings (validated).</param>
    /// <param name="sink">Receives every flow that leaves the table.</param>
    public FlowTable(FlowTableOptions options, IFlowSink sink)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        options.Validate();
        _sink = sink;
        _maxFlows = options.MaxFlows;
        // Buckets of eight slots with overflow counts stay short even near full, so the capacity is only rounded
        // up to a power of two; a full table evicts before it inserts.
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(BucketSlots * 2, options.MaxFlows));
        Capacity = capacity;
        _bucketMask = (capacity / BucketSlots) - 1;
        _region = new NativeRegion(NativeRegion.Size(
            (sizeof(uint), capacity),
            (Unsafe.SizeOf<FlowEntry>(), capacity),
            (Unsafe.SizeOf<FlowColdState>(), capacity),
            (sizeof(byte), capacity / BucketSlots),
            (sizeof(int), capacity + WheelBuckets),
            (sizeof(int), capacity + WheelBuckets)));
        _tags = _region.Column<uint>(capacity);
        _entries = _region.Column<FlowEntry>(capacity);
        _cold = _region.Column<FlowColdState>(capacity);
        _overflow = _region.Column<byte>(capacity / BucketSlots);
        _fragments = GC.AllocateArray<FragmentEntry>(FragmentCacheSize, pinned: true);
        _next = _region.Column<int>(capacity + WheelBuckets);
        _prev = _region.Column<int>(capacity + WheelBuckets);
        for (int b = 0; b < WheelBuckets; b++)
        {
            _next[capacity + b] = capacity + b;
            _prev[capacity + b] = capacity + b;
        }
        _idleNsByProtocol.AsSpan().Fill(ToNs(options.OtherIdleTimeout));
        _idleNsByProtocol[6] = ToNs(options.TcpIdleTimeout);
        _idleNsByProtocol[17] = ToNs(options.UdpIdleTimeout);
        _idleNsByProtocol[1] = ToNs(options.IcmpIdleTimeout);
        _idleNsByProtocol[58] = ToNs(options.IcmpIdleTimeout);
        _activeNs = ToNs(options.ActiveTimeout);
        _lingerNs = ToNs(options.TcpCloseLinger);
        _seed = s_seed;

        // IPv6 tunnel endpoint pairs (hypervisor to hypervisor) are interned once (an IPv4 pair is kept in the
        // flow's slot); sized up front so that new flows allocate nothing until more pairs than this have been seen.
        int pairs = Math.Min(options.MaxFlows, 1 << 16);
        _endpointIndex = new Dictionary<EndpointPair, ushort>(pairs);
        _endpoints = new List<EndpointPair>(pairs);
    }

    /// <summary>Flows in the table now.</summary>
    public int Count => _count;

    /// <summary>Slots allocated (a power of two, a little above <see cref="FlowTableOptions.MaxFlows"/>).</summary>
    public int Capacity { get; }

    /// <summary>Bytes of table memory per slot (tags, keys, counters and overflow counts).</summary>
    public static int BytesPerSlot => sizeof(uint) + Unsafe.SizeOf<FlowEntry>() + Unsafe.SizeOf<FlowColdState>() + (2 * sizeof(int)) + 1;

    /// <summary>True when the table's memory is backed by transparent huge pages (Linux, where the kernel allows).</summary>
    public bool UsesHugePages => _region.HugePages;

    /// <summary>Releases the table's native memory. The table must not be used afterwards.</summary>
    public void Dispose() => _region.Dispose();

    /// <summary>Table memory divided by <see cref="FlowTableOptions.MaxFlows"/>.</summary>
    public double BytesPerFlow => (((double)BytesPerSlot * Capacity) + (WheelBuckets * 2 * sizeof(int))) / _maxFlows;

    /// <summary>Counters of the table's work.</summary>
    public FlowTableStatistics Statistics => _statistics;

    /// <summary>The current packet time: the latest timestamp seen, nanoseconds since the Unix epoch.</summary>
    public long NowNs => _nowNs;

    /// <summary>
    /// Accounts one decoded packet to its flow, creating the flow when it is new. Packets that were rejected by the
    /// decoder, and later fragments whose first fragment was not seen, are not accounted.
    /// </summary>
    /// <param name="packet">A packet decoded by <see cref="PacketDecoder"/>.</param>
    /// <returns>True when the packet was accounted to a flow.</returns>
    public bool Update(in DecodedPacket packet)
    {
        if (packet.Reject != RejectReason.None || packet.IpVersion == 0)
        {
            return false;
        }

        ushort sourcePort = packet.SourcePort;
        ushort destinationPort = packet.DestinationPort;
        ushort icmpId = packet.IcmpId;
        if ((packet.Flags & PacketFlags.Fragment) != 0)
        {
            if (!ResolveFragment(in packet, ref sourcePort, ref destinationPort, ref icmpId))
            {
                _statistics.UnmatchedFragments++;
                return false;
            }
        }

        Tick(packet.TimestampNs);
        bool sourceIsA = FlowKey.FromPacket(in packet, sourcePort, destinationPort, icmpId, out FlowKey key);
        UpdateCore(in packet, ref key, FlowKey.Hash(ref key, _seed), sourceIsA);

        // The columns are native memory owned through this object: keep it alive to the end of every use.
        GC.KeepAlive(this);
        return true;
    }

    /// <summary>
    /// Accounts a batch of decoded packets, exactly as <see cref="Update"/> on each in order would, but in stages:
    /// all keys are hashed and their buckets prefetched, then the candidate slots are prefetched, then the packets
    /// are accounted, so the cache misses of a group of packets overlap instead of following one another.
    /// </summary>
    /// <param name="packets">Packets decoded by <see cref="PacketDecoder"/>.</param>
    /// <returns>How many packets were accounted to flows.</returns>
    [SkipLocalsInit] // avoid zeroing the group buffers
    public int UpdateBatch(ReadOnlySpan<DecodedPacket> packets)
    {
        // Fixed-size locals rather than stackalloc: a method with localloc is compiled once, fully optimised but
        // without tiering, so it never gets the profile-guided layout of its hot paths (1.02-1.10x measured). Each
        // entry is written in stage 1 before it is read, so they are not zeroed.
        Unsafe.SkipInit(out GroupKeys keyStore);
        Unsafe.SkipInit(out GroupHashes hashStore);
        Unsafe.SkipInit(out GroupStates stateStore);
        Span<FlowKey> keys = keyStore;
        Span<ulong> hashes = hashStore;
        Span<byte> state = stateStore;
        const byte Slow = 0, SourceIsA = 1, SourceIsB = 2;
        int accounted = 0;
        for (int start = 0; start < packets.Length; start += Group)
        {
            ReadOnlySpan<DecodedPacket> group = packets.Slice(start, Math.Min(Group, packets.Length - start));

            // Stage 1: keys and hashes; prefetch each home bucket's tags.
            for (int i = 0; i < group.Length; i++)
            {
                ref readonly DecodedPacket p = ref group[i];
                if (p.Reject != RejectReason.None || p.IpVersion == 0 || (p.Flags & PacketFlags.Fragment) != 0)
                {
                    state[i] = Slow;
                    continue;
                }

                state[i] = FlowKey.FromPacket(in p, p.SourcePort, p.DestinationPort, p.IcmpId, out keys[i]) ? SourceIsA : SourceIsB;
                hashes[i] = FlowKey.Hash(ref keys[i], _seed);
                Prefetch.Line(ref _tags[((int)hashes[i] & _bucketMask) * BucketSlots]);
            }

            // Stage 2: the slot the packet will most likely use, its key and counters prefetched: the first whose
            // tag matches, else the first free one of the home bucket (where a new flow goes).
            for (int i = 0; i < group.Length; i++)
            {
                if (state[i] != Slow)
                {
                    int first = ((int)hashes[i] & _bucketMask) * BucketSlots;
                    uint tag = TagOf(hashes[i]);
                    Vector256<uint> tags = Vector256.LoadUnsafe(ref _tags[first]);
                    uint matches = Vector256.Equals(tags, Vector256.Create(tag)).ExtractMostSignificantBits();
                    bool found = matches != 0;
                    if (!found)
                    {
                        matches = Vector256.Equals(tags, Vector256<uint>.Zero).ExtractMostSignificantBits();
                    }

                    if (matches != 0)
                    {
                        int slot = first + BitOperations.TrailingZeroCount(matches);
                        Prefetch.Range(ref _entries[slot], Unsafe.SizeOf<FlowEntry>());

                        // Most packets of short flows also write a first-packet size there.
                        Prefetch.Line(ref _cold[slot]);
                        if (!found)
                        {
                            // A new flow is also linked into the expiry wheel.
                            Prefetch.Line(ref _next[slot]);
                            Prefetch.Line(ref _prev[slot]);
                        }
                    }
                }
            }

            // Stage 3: account, in packet order.
            for (int i = 0; i < group.Length; i++)
            {
                ref readonly DecodedPacket p = ref group[i];
                if (state[i] == Slow)
                {
                    if (Update(in p))
                    {
                        accounted++;
                    }

                    continue;
                }

                Tick(p.TimestampNs);
                UpdateCore(in p, ref keys[i], hashes[i], state[i] == SourceIsA);
                accounted++;
            }
        }

        GC.KeepAlive(this);
        return accounted;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void UpdateCore(in DecodedPacket packet, ref FlowKey key, ulong hash, bool sourceIsA)
    {
        int home = (int)hash & _bucketMask;
        uint tag = TagOf(hash);
        int slot = Find(ref key, home, tag, out int freeSlot);

        long ts = _nowNs;
        if (slot >= 0)
        {
            ref FlowEntry existing = ref _entries[slot];
            if (IsRestart(ref existing.State, ref existing.Key, in packet, ts, out FlowEndReason reason))
            {
                Emit(slot, reason);
                InitState(slot, in packet, sourceIsA, ts);
            }
            else if (ts - existing.State.FirstNs > _activeNs)
            {
                Emit(slot, FlowEndReason.ActiveTimeout);
                ContinueState(slot, ts);
            }
        }
        else
        {
            slot = Insert(ref key, home, tag, freeSlot);
            InitState(slot, in packet, sourceIsA, ts);
            Schedule(slot, ts + IdleTimeoutNs(key.Protocol));
        }

        ref FlowState s = ref _entries[slot].State;

        // Only a FIN or a RST can end a connection; other packets skip the before/after check.
        bool mayEnd = key.Protocol == 6 && (packet.TcpFlags & (TcpFlags.Fin | TcpFlags.Rst)) != 0;
        bool endedBefore = mayEnd && IsTcpEnded(ref s);
        Account(ref s, slot, in packet, sourceIsA == s.OriginatorIsA, ts);
        if (mayEnd && !endedBefore && IsTcpEnded(ref s))
        {
            // The connection just ended (FIN both ways, or a RST): its deadline shrinks from the idle timeout to
            // the close linger, so it moves to an earlier bucket (the wheel only ever extends deadlines lazily).
            Unschedule(slot);
            Schedule(slot, ts + _lingerNs);
        }

        _statistics.Packets++;
    }

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

    /// <summary>Emits every flow with <see cref="FlowEndReason.EndOfInput"/>, in deadline order, and empties the table.</summary>
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
        if (key.Protocol == 6 && IsTcpEnded(ref s))
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

    // A slot's tag: 32 bits of its key's hash, never 0 (0 marks a free slot).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint TagOf(ulong hash) => (uint)(hash >> 32) | 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(ref FlowKey key, int home, uint tag, out int freeSlot)
    {
        freeSlot = -1;
        ref uint tags = ref _tags[0];
        ref FlowEntry entries = ref _entries[0];
        ref byte overflow = ref _overflow[0];
        Vector256<uint> wanted = Vector256.Create(tag);
        int bucket = home;
        for (int probe = 0; probe <= _bucketMask; probe++)
        {
            int first = bucket * BucketSlots;
            Vector256<uint> column = Vector256.LoadUnsafe(ref tags, (nuint)first);
            uint matches = Vector256.Equals(column, wanted).ExtractMostSignificantBits();
            while (matches != 0)
            {
                int slot = first + BitOperations.TrailingZeroCount(matches);
                if (FlowKey.Equal(ref Unsafe.Add(ref entries, slot).Key, ref key))
                {
                    return slot;
                }

                matches &= matches - 1;
            }

            if (freeSlot < 0)
            {
                uint empty = Vector256.Equals(column, Vector256<uint>.Zero).ExtractMostSignificantBits();
                if (empty != 0)
                {
                    freeSlot = first + BitOperations.TrailingZeroCount(empty);
                }
            }

            if (Unsafe.Add(ref overflow, bucket) == 0)
            {
                break;
            }

            bucket = (bucket + 1) & _bucketMask;
        }

        return -1;
    }

    private int Insert(ref FlowKey key, int home, uint tag, int freeSlot)
    {
        if (_count >= _maxFlows)
        {
            EvictOldest();
            freeSlot = -1;
        }

        if (freeSlot < 0)
        {
            freeSlot = FindFreeSlot(home);
            if (freeSlot < 0)
            {
                EvictFromWindow(home);
                freeSlot = FindFreeSlot(home);
            }
        }

        // Every bucket between home and the chosen one now has an entry that probed past it.
        int bucket = home;
        int target = freeSlot / BucketSlots;
        while (bucket != target)
        {
            if (_overflow[bucket] != byte.MaxValue)
            {
                _overflow[bucket]++;
            }

            bucket = (bucket + 1) & _bucketMask;
        }

        _tags[freeSlot] = tag;
        _entries[freeSlot].Key = key;
        _count++;
        _statistics.FlowsCreated++;
        return freeSlot;
    }

    private int FindFreeSlot(int home)
    {
        int bucket = home;
        int limit = Math.Min(MaxProbeBuckets, _bucketMask + 1);
        for (int probe = 0; probe < limit; probe++)
        {
            int first = bucket * BucketSlots;
            uint empty = Vector256.Equals(Vector256.LoadUnsafe(ref _tags[0], (nuint)first), Vector256<uint>.Zero).ExtractMostSignificantBits();
            if (empty != 0)
            {
                return first + BitOperations.TrailingZeroCount(empty);
            }

            bucket = (bucket + 1) & _bucketMask;
        }

        return -1;
    }

    // The table is full: the flow scheduled earliest on the wheel (the longest idle, up to rescheduling) leaves.
    // Chosen from the wheel, not from the hash layout, so the choice is the same whatever the seed.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EvictOldest()
    {
        for (int i = 0; i < WheelBuckets; i++)
        {
            int sentinel = SentinelFromNow(i);
            int slot = _next[sentinel];
            if (slot != sentinel)
            {
                _statistics.Evictions++;
                Emit(slot, FlowEndReason.Evicted);
                Unschedule(slot);
                Remove(slot);
                return;
            }
        }
    }

    // The probe window of a new key has no free slot (very rare below full load): the longest-idle flow of the
    // window leaves.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EvictFromWindow(int home)
    {
        int victim = -1;
        long oldest = long.MaxValue;
        int bucket = home;
        int limit = Math.Min(MaxProbeBuckets, _bucketMask + 1);
        for (int probe = 0; probe < limit; probe++)
        {
            for (int i = 0; i < BucketSlots; i++)
            {
                int slot = (bucket * BucketSlots) + i;
                if (_tags[slot] != 0 && _entries[slot].State.LastNs < oldest)
                {
                    oldest = _entries[slot].State.LastNs;
                    victim = slot;
                }
            }

            bucket = (bucket + 1) & _bucketMask;
        }

        _statistics.Evictions++;
        Emit(victim, FlowEndReason.Evicted);
        Unschedule(victim);
        Remove(victim);
    }

    private void Remove(int slot)
    {
        ulong hash = FlowKey.Hash(ref _entries[slot].Key, _seed);
        int bucket = (int)hash & _bucketMask;
        int target = slot / BucketSlots;
        while (bucket != target)
        {
            byte o = _overflow[bucket];
            if (o != byte.MaxValue && o != 0)
            {
                _overflow[bucket] = (byte)(o - 1);
            }

            bucket = (bucket + 1) & _bucketMask;
        }

        _tags[slot] = 0;
        _count--;
    }

    private void InitState(int slot, in DecodedPacket p, bool sourceIsA, long ts)
    {
        ref FlowState s = ref _entries[slot].State;
        s = default;
        s.FirstNs = ts;
        s.LastNs = ts;

        // The originator sends the first packet; a SYN-ACK seen first was answering the other side's SYN.
        bool synAck = p.Protocol == 6 && (p.TcpFlags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack);
        s.OriginatorIsA = sourceIsA != synAck;
        s.TunnelDepth = p.TunnelDepth;
        ref FlowColdState cold = ref _cold[slot];
        cold = default;
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

        if (p.Protocol == 6 && (p.Flags & PacketFlags.HasTransport) != 0)
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
        if (protocol != 6)
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

    private void Emit(int slot, FlowEndReason reason)
    {
        ref FlowState s = ref _entries[slot].State;
        ref FlowColdState cold = ref _cold[slot];
        if (s.IsContinuation && s.Forward.Packets == 0 && s.Reverse.Packets == 0)
        {
            // A continuation that saw no packet after its active-timeout record: nothing to report.
            return;
        }

        ref FlowKey k = ref _entries[slot].Key;
        FlowRecord r = default;
        bool aIsOriginator = s.OriginatorIsA;
        r.SourceAddress = aIsOriginator ? k.A : k.B;
        r.DestinationAddress = aIsOriginator ? k.B : k.A;
        r.SourcePort = aIsOriginator ? k.PortA : k.PortB;
        r.DestinationPort = aIsOriginator ? k.PortB : k.PortA;
        if (cold.OuterIpVersion == 4)
        {
            r.OuterSourceAddress = IpAddress.FromV4Raw(cold.OuterSourceV4);
            r.OuterDestinationAddress = IpAddress.FromV4Raw(cold.OuterDestinationV4);
            r.OuterIpVersion = 4;
        }
        else if (cold.EndpointIndex < _endpoints.Count)
        {
            EndpointPair e = _endpoints[cold.EndpointIndex];
            r.OuterSourceAddress = e.Source;
            r.OuterDestinationAddress = e.Destination;
            r.OuterIpVersion = e.IpVersion;
        }
        else
        {
            r.OuterSourceAddress = r.SourceAddress;
            r.OuterDestinationAddress = r.DestinationAddress;
            r.OuterIpVersion = k.IpVersion;
        }

        r.IcmpId = k.IcmpId;
        r.VnKind = k.VnKind;
        r.VnId = k.VnId;
        r.IpVersion = k.IpVersion;
        r.Protocol = k.Protocol;
        r.FirstNs = s.FirstNs;
        r.LastNs = s.LastNs;
        ref DirectionCounters f = ref s.Forward, b = ref s.Reverse;
        r.ForwardPackets = f.Packets;
        r.ReversePackets = b.Packets;
        r.ForwardBytes = f.Bytes;
        r.ReverseBytes = b.Bytes;
        r.ForwardPayloadBytes = f.Payload;
        r.ReversePayloadBytes = b.Payload;
        r.ForwardSizeMin = f.SizeMin;
        r.ForwardSizeMax = f.SizeMax;
        r.ReverseSizeMin = b.SizeMin;
        r.ReverseSizeMax = b.SizeMax;
        (r.ForwardSizeMean, r.ForwardSizeVariance) = f.SizeMoments();
        (r.ReverseSizeMean, r.ReverseSizeVariance) = b.SizeMoments();
        (r.ForwardIatMeanUs, r.ForwardIatVarianceUs2) = f.IatMoments();
        (r.ReverseIatMeanUs, r.ReverseIatVarianceUs2) = b.IatMoments();
        r.ForwardIatMinUs = f.IatMin;
        r.ForwardIatMaxUs = f.IatMax;
        r.ReverseIatMinUs = b.IatMin;
        r.ReverseIatMaxUs = b.IatMax;
        r.ForwardTcpFlags = (TcpFlags)s.ForwardTcpFlags;
        r.ReverseTcpFlags = (TcpFlags)s.ReverseTcpFlags;
        r.State = ConnectionStateOf(ref s, k.Protocol);
        r.EndReason = reason;
        r.VlanId = cold.VlanId;
        r.TunnelDepth = s.TunnelDepth;
        r.IsContinuation = s.IsContinuation;
        r.FirstPacketCount = s.FirstPacketCount;
        r.FirstPackets = cold.FirstPackets;
        _statistics.CountEmitted(reason);
        _sink.OnFlow(in r);
    }

    private ushort InternEndpoints(in DecodedPacket p, bool reversed)
    {
        EndpointPair pair = reversed
            ? new EndpointPair(p.OuterDestination, p.OuterSource, p.OuterIpVersion)
            : new EndpointPair(p.OuterSource, p.OuterDestination, p.OuterIpVersion);
        if (_endpointIndex.TryGetValue(pair, out ushort index))
        {
            return index;
        }

        if (_endpoints.Count >= ushort.MaxValue)
        {
            return ushort.MaxValue;
        }

        index = (ushort)_endpoints.Count;
        _endpoints.Add(pair);
        _endpointIndex.Add(pair, index);
        return index;
    }

    // Non-first fragments carry no ports: they take those of the first fragment of the same datagram.
    private bool ResolveFragment(in DecodedPacket p, ref ushort sourcePort, ref ushort destinationPort, ref ushort icmpId)
    {
        ulong check = FragmentCheck(in p);
        ref FragmentEntry e = ref _fragments[(int)(check % FragmentCacheSize)];
        if ((p.Flags & PacketFlags.NonFirstFragment) == 0)
        {
            if ((p.Flags & PacketFlags.HasTransport) != 0 || p.Protocol is not (6 or 17 or 1 or 58 or 132 or 33 or 136))
            {
                e.Check = check;
                e.SourcePort = p.SourcePort;
                e.DestinationPort = p.DestinationPort;
                e.IcmpId = p.IcmpId;
            }

            return true;
        }

        if (e.Check != check)
        {
            return false;
        }

        sourcePort = e.SourcePort;
        destinationPort = e.DestinationPort;
        icmpId = e.IcmpId;
        return true;
    }

    private ulong FragmentCheck(in DecodedPacket p)
    {
        FlowKey k = default;
        k.A = p.Source;
        k.B = p.Destination;
        k.VnId = p.VnId;
        k.VnKind = p.VnKind;
        k.IpVersion = p.IpVersion;
        k.Protocol = p.Protocol;
        k.PortA = (ushort)p.FragmentId;
        k.PortB = (ushort)(p.FragmentId >> 16);
        return FlowKey.Hash(ref k, _seed) | 1;
    }

    private static long ToNs(TimeSpan t) => t.Ticks * 100;

    private static uint CreateSeed()
    {
        Span<byte> b = stackalloc byte[4];
        RandomNumberGenerator.Fill(b);
        return MemoryMarshal.Read<uint>(b);
    }

    [InlineArray(Group)]
    private struct GroupKeys
    {
        private FlowKey _element;
    }

    [InlineArray(Group)]
    private struct GroupHashes
    {
        private ulong _element;
    }

    [InlineArray(Group)]
    private struct GroupStates
    {
        private byte _element;
    }

    private struct FragmentEntry
    {
        public ulong Check;
        public ushort SourcePort;
        public ushort DestinationPort;
        public ushort IcmpId;
    }

    private readonly record struct EndpointPair(IpAddress Source, IpAddress Destination, byte IpVersion);
}
