// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using FlowEngine.Capture;
using FlowEngine.Flows.Internal;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>The flow table of one worker without extensions: a plain flow meter (see <see cref="FlowTable{TExtension}"/>).</summary>
public sealed class FlowTable : FlowTable<NoFlowExtension>
{
    /// <summary>Creates a table and allocates all its memory.</summary>
    /// <param name="options">Settings (validated).</param>
    /// <param name="sink">Receives every flow that leaves the table.</param>
    /// <param name="events">Receives flow-start events; none are raised without it.</param>
    public FlowTable(FlowTableOptions options, IFlowSink sink, IFlowEventHandler? events = null)
        : base(options, sink, default, events)
    {
    }

    /// <summary>Bytes of table memory per slot (tags, keys, counters and overflow counts), without an extension's.</summary>
    public static int BytesPerSlot => FlowTableLayout.BytesPerSlot;
}

/// <summary>
/// The flow table of one worker: single writer, no locks. Open addressing over buckets of eight slots whose
/// 32-bit tags are compared with one SIMD instruction; keys and counters live in separate pinned columns
/// (struct of arrays), sized once for <see cref="FlowTableOptions.MaxFlows"/>. Every flow leaves through the
/// <see cref="IFlowSink"/>, in batches, with its <see cref="FlowEndReason"/>; none is dropped silently.
/// <typeparamref name="TExtension"/> adds per-flow state and hooks (<see cref="IFlowExtension"/>).
/// </summary>
/// <remarks>
/// <para>
/// Probing is linear over buckets. Each bucket keeps a saturating count of entries that probed past it (the
/// F14 "outbound overflow" idea), so a lookup stops at the first bucket that no entry overflowed, and removal
/// needs no tombstones. Keys are hashed with CRC32C (hardware where available) under a seed (random per process
/// unless <see cref="FlowTableOptions.HashSeed"/> sets it), so an attacker who chooses addresses cannot aim at one
/// bucket chain.
/// </para>
/// <para>
/// Records do not depend on the seed: the seed only decides where a flow sits. The table keeps at least one slot in
/// sixteen free, so a new flow always finds a slot on its probe path and nothing is ever evicted because of where flows
/// happen to sit; a full table evicts the flow that is due earliest on the expiry wheel, which depends only on the
/// packets. Fragments are matched by their exact keys. Replaying a capture gives byte-identical records in the same
/// order under any seed.
/// </para>
/// </remarks>
/// <typeparam name="TExtension">The per-flow extension (<see cref="NoFlowExtension"/> for none).</typeparam>
public partial class FlowTable<TExtension> : IFlowMarks, IDisposable
    where TExtension : struct, IFlowExtension
{
    private const int BucketSlots = 8;
    private const int WheelBuckets = 4096;
    private const long WheelTickNs = 1_000_000_000;
    private const int Group = 16; // packets per stage of UpdateBatch

    private readonly NativeRegion _region;
    private readonly NativeColumn<uint> _tags;
    private readonly NativeColumn<FlowEntry> _entries;
    private readonly NativeColumn<FlowColdState> _cold;
    private readonly NativeColumn<byte> _overflow;

    // Expiry timer wheel: one bucket per second of packet time, 4096 buckets (longer than any timeout), each a
    // circular doubly linked list threaded through _next/_prev; indices Capacity.. are the buckets' sentinels.
    private readonly NativeColumn<int> _next;
    private readonly NativeColumn<int> _prev;
    private readonly IFlowSink _sink;
    private readonly IFlowEventHandler? _events;
    private readonly FlowRecord[] _records;
    private readonly Dictionary<EndpointPair, ushort> _endpointIndex;
    private readonly List<EndpointPair> _endpoints;
    private readonly int _buckets;
    private readonly int _maxFlows;
    private readonly long[] _idleNsByProtocol = new long[256];
    private readonly long _activeNs;
    private readonly long _lingerNs;
    private readonly uint _seed;

    private TExtension _extension;
    private int _recordCount;
    private int _count;
    private long _nowNs = long.MinValue;
    private long _wheelSecond = long.MinValue;
    private long _nextTickNs = long.MinValue;
    private FlowTableStatistics _statistics;

    /// <summary>Creates a table and allocates all its memory, then initialises the extension for its capacity.</summary>
    /// <param name="options">Settings (validated).</param>
    /// <param name="sink">Receives every flow that leaves the table.</param>
    /// <param name="extension">The extension (its <see cref="IFlowExtension.Initialize"/> is called here).</param>
    /// <param name="events">Receives flow events; none are raised without it.</param>
    public FlowTable(FlowTableOptions options, IFlowSink sink, TExtension extension = default, IFlowEventHandler? events = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        options.Validate();
        if (extension.MaskBits is < 0 or > 32)
        {
            throw new ArgumentException($"the extension uses {extension.MaskBits} mask bits; a flow has 32", nameof(extension));
        }

        _sink = sink;
        _events = events;
        _maxFlows = options.MaxFlows;

        // At most fifteen slots in sixteen are ever used, so a new key always finds a free slot on its probe path
        // (see the remarks); the capacity is that in whole buckets.
        int slots = Math.Max(BucketSlots * 2, options.MaxFlows + ((options.MaxFlows + 14) / 15));
        int capacity = (slots + BucketSlots - 1) / BucketSlots * BucketSlots;
        Capacity = capacity;
        _buckets = capacity / BucketSlots;
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
        _next = _region.Column<int>(capacity + WheelBuckets);
        _prev = _region.Column<int>(capacity + WheelBuckets);
        for (int b = 0; b < WheelBuckets; b++)
        {
            _next[capacity + b] = capacity + b;
            _prev[capacity + b] = capacity + b;
        }

        _idleNsByProtocol.AsSpan().Fill(ToNs(options.OtherIdleTimeout));
        _idleNsByProtocol[IpProtocol.Tcp] = ToNs(options.TcpIdleTimeout);
        _idleNsByProtocol[IpProtocol.Udp] = ToNs(options.UdpIdleTimeout);
        _idleNsByProtocol[IpProtocol.Icmp] = ToNs(options.IcmpIdleTimeout);
        _idleNsByProtocol[IpProtocol.IcmpV6] = ToNs(options.IcmpIdleTimeout);
        _activeNs = ToNs(options.ActiveTimeout);
        _lingerNs = ToNs(options.TcpCloseLinger);
        _seed = options.HashSeed ?? FlowHashSeed.Process;
        _records = new FlowRecord[options.RecordBatchSize];
        _fragments = new Dictionary<FragmentKey, FragmentPorts>(FragmentCacheSize);
        _fragmentOrder = new FragmentKey[FragmentCacheSize];

        // IPv6 tunnel endpoint pairs (hypervisor to hypervisor) are interned once (an IPv4 pair is kept in the
        // flow's slot); sized up front so that new flows allocate nothing until more pairs than this have been seen.
        int pairs = Math.Min(options.MaxFlows, 1 << 16);
        _endpointIndex = new Dictionary<EndpointPair, ushort>(pairs);
        _endpoints = new List<EndpointPair>(pairs);

        _extension = extension;
        _extension.Initialize(new FlowExtensionContext(capacity, _records.Length));
    }

    /// <summary>Flows in the table now.</summary>
    public int Count => _count;

    /// <summary>Slots allocated: at least 16/15 of <see cref="FlowTableOptions.MaxFlows"/>, in whole buckets of eight.</summary>
    public int Capacity { get; }

    /// <summary>True when the table's memory is backed by transparent huge pages (Linux, where the kernel allows).</summary>
    public bool UsesHugePages => _region.HugePages;

    /// <summary>Table memory divided by <see cref="FlowTableOptions.MaxFlows"/>.</summary>
    public double BytesPerFlow => (((double)FlowTableLayout.BytesPerSlot * Capacity) + (WheelBuckets * 2 * sizeof(int))) / _maxFlows;

    /// <summary>Counters of the table's work.</summary>
    public FlowTableStatistics Statistics => _statistics;

    /// <summary>The current packet time: the latest timestamp seen, nanoseconds since the Unix epoch.</summary>
    public long NowNs => _nowNs;

    /// <summary>The hash seed in use (<see cref="FlowTableOptions.HashSeed"/>, or the process's random one).</summary>
    public uint HashSeed => _seed;

    /// <summary>The extension, by reference (its state columns are indexed by slot and by record index).</summary>
    public ref TExtension Extension => ref _extension;

    /// <summary>Releases the table's native memory. The table must not be used afterwards.</summary>
    public void Dispose()
    {
        _region.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Accounts one decoded packet to its flow, creating the flow when it is new, and delivers the records it caused.
    /// Packets that were rejected by the decoder, and later fragments whose first fragment was not seen, are not
    /// accounted. Extensions' packet hooks see an empty frame (use <see cref="UpdateBatch(ReadOnlySpan{DecodedPacket}, PacketBatch?, ReadOnlySpan{int}, Span{int})"/>
    /// to give them frames).
    /// </summary>
    /// <param name="packet">A packet decoded by <see cref="PacketDecoder"/>.</param>
    /// <returns>True when the packet was accounted to a flow.</returns>
    public bool Update(in DecodedPacket packet)
    {
        bool accounted = UpdateOne(in packet, null, 0) >= 0;
        Deliver();
        return accounted;
    }

    /// <summary>
    /// Accounts a batch of decoded packets, exactly as <see cref="Update"/> on each in order would, but in stages:
    /// all keys are hashed and their buckets prefetched, then the candidate slots are prefetched, then the packets
    /// are accounted, so the cache misses of a group of packets overlap instead of following one another.
    /// </summary>
    /// <param name="packets">Packets decoded by <see cref="PacketDecoder"/>.</param>
    /// <returns>How many packets were accounted to flows.</returns>
    public int UpdateBatch(ReadOnlySpan<DecodedPacket> packets) => UpdateBatch(packets, null, default, default);

    /// <summary>
    /// Accounts a batch of decoded packets as <see cref="UpdateBatch(ReadOnlySpan{DecodedPacket})"/> does, giving the
    /// extensions' packet hooks each packet's frame, and reporting the slot each packet was accounted to.
    /// </summary>
    /// <param name="packets">Packets decoded by <see cref="PacketDecoder"/> from frames of <paramref name="frames"/>.</param>
    /// <param name="frames">The batch the packets were decoded from; null when the hooks get no frames.</param>
    /// <param name="frameIndices">With <paramref name="frames"/>: the index in it of each packet's frame (one per packet).</param>
    /// <param name="slots">Empty, or one entry per packet: its flow's slot, -1 when it was not accounted.</param>
    /// <returns>How many packets were accounted to flows.</returns>
    [SkipLocalsInit] // avoid zeroing the group buffers
    public int UpdateBatch(ReadOnlySpan<DecodedPacket> packets, PacketBatch? frames, ReadOnlySpan<int> frameIndices, Span<int> slots)
    {
        if (frames is not null && frameIndices.Length < packets.Length)
        {
            throw new ArgumentException($"{frameIndices.Length} frame indices for {packets.Length} packets", nameof(frameIndices));
        }

        bool wantSlots = !slots.IsEmpty;
        if (wantSlots && slots.Length < packets.Length)
        {
            throw new ArgumentException($"{slots.Length} slots for {packets.Length} packets", nameof(slots));
        }

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
                Prefetch.Line(ref _tags[HomeOf(hashes[i]) * BucketSlots]);
            }

            // Stage 2: the slot the packet will most likely use, its key and counters prefetched: the first whose
            // tag matches, else the first free one of the home bucket (where a new flow goes).
            for (int i = 0; i < group.Length; i++)
            {
                if (state[i] != Slow)
                {
                    int first = HomeOf(hashes[i]) * BucketSlots;
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
                int frameIndex = frames is null ? 0 : frameIndices[start + i];
                int slot;
                if (state[i] == Slow)
                {
                    slot = UpdateOne(in p, frames, frameIndex);
                }
                else
                {
                    Tick(p.TimestampNs);
                    slot = UpdateCore(in p, ref keys[i], hashes[i], state[i] == SourceIsA, frames, frameIndex);
                }

                if (slot >= 0)
                {
                    accounted++;
                }

                if (wantSlots)
                {
                    slots[start + i] = slot;
                }
            }
        }

        Deliver();
        GC.KeepAlive(this);
        return accounted;
    }

    // One packet by the general path (fragments, rejected packets): its slot, or -1 when it was not accounted.
    private int UpdateOne(in DecodedPacket packet, PacketBatch? frames, int frameIndex)
    {
        if (packet.Reject != RejectReason.None || packet.IpVersion == 0)
        {
            return -1;
        }

        ushort sourcePort = packet.SourcePort;
        ushort destinationPort = packet.DestinationPort;
        ushort icmpId = packet.IcmpId;
        if ((packet.Flags & PacketFlags.Fragment) != 0)
        {
            if (!ResolveFragment(in packet, ref sourcePort, ref destinationPort, ref icmpId))
            {
                _statistics.UnmatchedFragments++;
                return -1;
            }
        }

        Tick(packet.TimestampNs);
        bool sourceIsA = FlowKey.FromPacket(in packet, sourcePort, destinationPort, icmpId, out FlowKey key);
        int slot = UpdateCore(in packet, ref key, FlowKey.Hash(ref key, _seed), sourceIsA, frames, frameIndex);

        // The columns are native memory owned through this object: keep it alive to the end of every use.
        GC.KeepAlive(this);
        return slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int UpdateCore(in DecodedPacket packet, ref FlowKey key, ulong hash, bool sourceIsA, PacketBatch? frames, int frameIndex)
    {
        int home = HomeOf(hash);
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
                StartExtensions(slot, in packet, sourceIsA, ts, frames, frameIndex);
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
            StartExtensions(slot, in packet, sourceIsA, ts, frames, frameIndex);
        }

        ref FlowState s = ref _entries[slot].State;

        // Only a FIN or a RST can end a connection; other packets skip the before/after check.
        bool mayEnd = key.Protocol == IpProtocol.Tcp && (packet.TcpFlags & (TcpFlags.Fin | TcpFlags.Rst)) != 0;
        bool endedBefore = mayEnd && IsTcpEnded(ref s);
        bool forward = sourceIsA == s.OriginatorIsA;
        Account(ref s, slot, in packet, forward, ts);
        if (mayEnd && !endedBefore && IsTcpEnded(ref s))
        {
            // The connection just ended (FIN both ways, or a RST): its deadline shrinks from the idle timeout to
            // the close linger, so it moves to an earlier bucket (the wheel only ever extends deadlines lazily).
            Unschedule(slot);
            Schedule(slot, ts + _lingerNs);
        }

        if (_extension.WantsPackets && s.ExtensionMask != 0)
        {
            RunPacketHooks(ref s, slot, in packet, frames, frameIndex, forward);
        }

        _statistics.Packets++;
        return slot;
    }

    private static long ToNs(TimeSpan t) => t.Ticks * 100;

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

    private readonly record struct EndpointPair(IpAddress Source, IpAddress Destination, byte IpVersion);
}
