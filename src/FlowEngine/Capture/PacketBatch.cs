// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Flows.Internal;
using FlowEngine.Packets;

namespace FlowEngine.Capture;

/// <summary>
/// A batch of captured frames: spans over the source's own buffers (a memory-mapped file, DPDK mbufs, an
/// AF_PACKET ring) with their metadata. Allocated once per worker and reused; filling it allocates nothing.
/// </summary>
public sealed unsafe class PacketBatch
{
    // Invariant: each entry's Data points into memory owned by the packet source that filled the batch, valid
    // until that source's next ReadBatch call or its disposal; copied frames point into _copyArena, which is
    // pinned and lives as long as this batch.
    private readonly Entry[] _entries;
    private readonly byte[] _copyArena;
    private int _copyUsed;

    /// <summary>Creates a batch.</summary>
    /// <param name="capacity">Most frames per batch (1 to 65536). Default: 256.</param>
    /// <param name="copyArenaBytes">Bytes available to <see cref="TryAppendCopy"/>. Default: 0 (zero-copy sources need none).</param>
    public PacketBatch(int capacity = 256, int copyArenaBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 65536);
        ArgumentOutOfRangeException.ThrowIfNegative(copyArenaBytes);
        _entries = GC.AllocateUninitializedArray<Entry>(capacity, pinned: true);
        _copyArena = GC.AllocateUninitializedArray<byte>(copyArenaBytes, pinned: true);
    }

    /// <summary>Frames in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Most frames the batch holds.</summary>
    public int Capacity => _entries.Length;

    /// <summary>True when no further frame fits.</summary>
    public bool IsFull => Count == _entries.Length;

    /// <summary>The captured bytes of frame <paramref name="index"/>.</summary>
    /// <param name="index">0 to Count - 1.</param>
    /// <returns>The frame.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> GetFrame(int index)
    {
        ref Entry e = ref GetEntry(index);
        return new ReadOnlySpan<byte>((void*)e.Data, e.CapturedLength);
    }

    /// <summary>Frame <paramref name="index"/> with its metadata, in one bounds check (the pipeline's per-packet read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ReadOnlySpan<byte> GetFrame(int index, out long timestampNs, out int wireLength, out LinkType linkType)
    {
        ref Entry e = ref GetEntry(index);
        timestampNs = e.TimestampNs;
        wireLength = e.WireLength;
        linkType = e.LinkType;
        return new ReadOnlySpan<byte>((void*)e.Data, e.CapturedLength);
    }

    /// <summary>
    /// Hints the CPU to fetch the headers (first two cache lines) of frame <paramref name="index"/> when it exists, so
    /// they arrive from DRAM while earlier frames are decoded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PrefetchHeaders(int index)
    {
        if ((uint)index < (uint)Count)
        {
            byte* data = (byte*)Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), index).Data;
            Prefetch.Line(ref *data);
            Prefetch.Line(ref data[64]);
        }
    }

    /// <summary>Capture timestamp of frame <paramref name="index"/>, nanoseconds since the Unix epoch.</summary>
    /// <param name="index">0 to Count - 1.</param>
    /// <returns>The timestamp.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long GetTimestampNs(int index) => GetEntry(index).TimestampNs;

    /// <summary>Length of frame <paramref name="index"/> on the wire (at least its captured length).</summary>
    /// <param name="index">0 to Count - 1.</param>
    /// <returns>The length in bytes.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetWireLength(int index) => GetEntry(index).WireLength;

    /// <summary>Link type of frame <paramref name="index"/>.</summary>
    /// <param name="index">0 to Count - 1.</param>
    /// <returns>The link type.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public LinkType GetLinkType(int index) => GetEntry(index).LinkType;

    /// <summary>Interface (pcapng interface id, or NIC queue) that captured frame <paramref name="index"/>.</summary>
    /// <param name="index">0 to Count - 1.</param>
    /// <returns>The interface number.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetInterface(int index) => GetEntry(index).Interface;

    /// <summary>Empties the batch.</summary>
    public void Clear()
    {
        Count = 0;
        _copyUsed = 0;
    }

    /// <summary>Appends a copy of a frame, for sources whose buffers do not outlive the call.</summary>
    /// <param name="frame">Captured bytes.</param>
    /// <param name="wireLength">Length on the wire.</param>
    /// <param name="timestampNs">Timestamp, nanoseconds since the Unix epoch.</param>
    /// <param name="linkType">Link type.</param>
    /// <param name="interfaceId">Interface number.</param>
    /// <returns>False when the batch or its copy arena is full.</returns>
    public bool TryAppendCopy(ReadOnlySpan<byte> frame, int wireLength, long timestampNs, LinkType linkType, int interfaceId = 0)
    {
        if (Count == _entries.Length || _copyArena.Length - _copyUsed < frame.Length)
        {
            return false;
        }

        frame.CopyTo(_copyArena.AsSpan(_copyUsed));
        nint data = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_copyArena)) + _copyUsed;
        _copyUsed += frame.Length;
        UnsafeAppend(data, frame.Length, wireLength, timestampNs, linkType, interfaceId);
        return true;
    }

    /// <summary>
    /// Appends a frame without copying it: the zero-copy path for an <see cref="IPacketSource"/> whose frames lie in
    /// memory it owns (a ring, NIC buffers, a mapping).
    /// </summary>
    /// <remarks>
    /// Caller must ensure: <paramref name="data"/> points to <paramref name="capturedLength"/> readable bytes that stay
    /// valid and do not move until the source's next <see cref="IPacketSource.ReadBatch"/> call or its disposal (pinned
    /// or native memory; never a managed array that is not pinned). The batch reads the bytes only through the spans it
    /// hands out.
    /// </remarks>
    /// <param name="data">Address of the first byte.</param>
    /// <param name="capturedLength">Bytes captured.</param>
    /// <param name="wireLength">Length on the wire (raised to <paramref name="capturedLength"/> when smaller).</param>
    /// <param name="timestampNs">Timestamp, nanoseconds since the Unix epoch.</param>
    /// <param name="linkType">Link type.</param>
    /// <param name="interfaceId">Interface number (pcapng interface, NIC queue).</param>
    /// <exception cref="InvalidOperationException">The batch is full.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capturedLength"/> is negative.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void UnsafeAppend(nint data, int capturedLength, int wireLength, long timestampNs, LinkType linkType, int interfaceId = 0)
    {
        if ((uint)Count >= (uint)_entries.Length || capturedLength < 0)
        {
            ThrowAppend(capturedLength);
        }

        ref Entry e = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), Count++);
        e.Data = data;
        e.CapturedLength = capturedLength;
        e.WireLength = wireLength < capturedLength ? capturedLength : wireLength;
        e.TimestampNs = timestampNs;
        e.LinkType = linkType;
        e.Interface = (ushort)interfaceId;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Entry GetEntry(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            ThrowIndex();
        }

        // Count never exceeds the array's length, so the check above covers the array's own.
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), index);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAppend(int capturedLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capturedLength);
        throw new InvalidOperationException("the packet batch is full");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowIndex() => throw new ArgumentOutOfRangeException("index");

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public nint Data;
        public long TimestampNs;
        public int CapturedLength;
        public int WireLength;
        public LinkType LinkType;
        public ushort Interface;
    }
}
