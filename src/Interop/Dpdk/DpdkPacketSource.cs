// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Capture;
using FlowEngine.Packets;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>
/// One RX queue of a <see cref="DpdkPort"/> as an <see cref="IPacketSource"/>: each <see cref="ReadBatch"/> is one
/// native call (fe_rx_burst: the previous burst's bulk free, then rte_eth_rx_burst into the same array) whose frames
/// enter the batch without a copy, as spans over the mbufs. The last burst goes back to the pool at disposal.
/// </summary>
/// <remarks>
/// A port is a live source: <see cref="ReadBatch"/> returns true with an empty batch when nothing arrived, and
/// false only once the port is stopped or disposed. Only the first segment of a multi-segment frame is
/// delivered (its wire length is the whole frame's); size the mempool's data room for the largest frame.
/// </remarks>
public sealed unsafe class DpdkPacketSource : IPacketSource
{
    // Invariant: _mbufs and _descs are native arrays of _maxBurst entries owned by this source, freed at Dispose;
    // the first _held entries of _mbufs are mbufs this source owns until the next ReadBatch or Dispose.
    private readonly DpdkPort _port;
    private readonly ushort _portId;
    private readonly ushort _queue;
    private readonly int _maxBurst;
    private nint* _mbufs;
    private FlowShim.RxDesc* _descs;
    private int _held;
    private long _multiSegmentFrames;

    internal DpdkPacketSource(DpdkPort port, ushort queue, int maxBurst)
    {
        _port = port;
        _portId = (ushort)port.PortId;
        _queue = queue;
        _maxBurst = maxBurst;
        _mbufs = (nint*)NativeMemory.AlignedAlloc((nuint)(maxBurst * sizeof(nint)), 64);
        _descs = (FlowShim.RxDesc*)NativeMemory.AlignedAlloc((nuint)(maxBurst * sizeof(FlowShim.RxDesc)), 64);
    }

    /// <summary>The RX queue read.</summary>
    public int Queue => _queue;

    /// <summary>Frames delivered truncated to their first segment (the mempool's data room is too small for them).</summary>
    public long MultiSegmentFrames => _multiSegmentFrames;

    /// <summary>
    /// Frees the previous burst and receives up to min(batch capacity, maxBurst) frames, in one native call.
    /// </summary>
    /// <param name="batch">Cleared, then filled with the frames; they stay valid until the next call or disposal.</param>
    /// <returns>True while the port runs (the batch may be empty); false once it is stopped or disposed.</returns>
    public bool ReadBatch(PacketBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        ObjectDisposedException.ThrowIf(_mbufs == null, this);
        if (!_port.IsStarted)
        {
            FreeHeld();
            return false;
        }

        // One native call: the previous burst goes back to the pool, the next one arrives in the same array.
        int want = Math.Min(batch.Capacity, _maxBurst);
        int n = FlowShim.RxBurst(_portId, _queue, _mbufs, (ushort)_held, _descs, (ushort)want);
        _held = n;
        _multiSegmentFrames += AppendBurst(batch, _descs, n, _queue);
        return true;
    }

    /// <summary>
    /// Sends the last burst's frames out of a port's TX queue in one native call (fe_tx_burst), handing them over
    /// instead of freeing them at the next <see cref="ReadBatch"/>: on a ring port, the same buffers are received
    /// again. Frames the device did not take are freed. Read the batch before: its frames are no longer this source's.
    /// </summary>
    /// <param name="port">A started port with TX queue <paramref name="queue"/>; may be this source's own.</param>
    /// <param name="queue">The TX queue.</param>
    /// <returns>Frames the device took.</returns>
    internal int TransmitHeld(DpdkPort port, ushort queue)
    {
        // The caller owns the port; a ring port's TX and RX are the same ring, so the next ReadBatch frees nothing.
        int held = _held;
        _held = 0;
        return held == 0 ? 0 : FlowShim.TxBurst((ushort)port.PortId, queue, _mbufs, (ushort)held, freeUnsent: 1);
    }

    /// <summary>Returns the last burst's mbufs to the pool and frees the burst arrays. Call from the reading thread or after it stopped.</summary>
    public void Dispose()
    {
        if (_mbufs == null)
        {
            return;
        }

        FreeHeld();
        NativeMemory.AlignedFree(_mbufs);
        NativeMemory.AlignedFree(_descs);
        _mbufs = null;
        _descs = null;
    }

    /// <summary>Appends a received burst to a batch, frames as spans over the mbufs; returns the multi-segment frames.</summary>
    // Caller must ensure: the batch has room for count frames, and the mbufs stay held until it is read.
    internal static int AppendBurst(PacketBatch batch, FlowShim.RxDesc* descs, int count, int interfaceId)
    {
        int multiSegment = 0;
        for (FlowShim.RxDesc* d = descs, end = descs + count; d < end; d++)
        {
            multiSegment += d->Flags & FlowShim.RxMultiSegment; // bit 0: the masked flag is 0 or 1
            batch.UnsafeAppend((nint)d->Data, d->DataLength, (int)d->PacketLength, d->TimestampNs, LinkType.Ethernet, interfaceId);
        }

        return multiSegment;
    }

    private void FreeHeld()
    {
        if (_held != 0)
        {
            FlowShim.MbufFreeBulk(_mbufs, (uint)_held);
            _held = 0;
        }
    }
}
