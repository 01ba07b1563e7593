// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class FlowShim
    {
        /// <summary>fe_rx_desc.flags: the frame continues in further segments (DataLength &lt; PacketLength).</summary>
        internal const ushort RxMultiSegment = 0x1;

        /// <summary>
        /// One native call per burst: returns the first <paramref name="freeCount"/> buffers of mbufs (the previous
        /// burst) to their pools, then receives up to count frames from one queue into mbufs and descs; returns the
        /// number received. The buffers belong to the caller until passed back as freeCount,
        /// <see cref="MbufFreeBulk"/> or <see cref="TxBurst"/>.
        /// </summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_rx_burst")]
        [SuppressGCTransition] // Non-blocking poll of one queue, no callbacks, no allocation: see benchmark DpdkRxBenchmarks.
        internal static partial int RxBurst(ushort portId, ushort queueId, nint* mbufs, ushort freeCount, RxDesc* descs, ushort count);

        /// <summary>
        /// Sends up to count buffers; returns how many the device took. With freeUnsent (1), the rest go back to
        /// their pools in the same call; with 0 they stay the caller's.
        /// </summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_tx_burst")]
        [SuppressGCTransition] // Non-blocking enqueue, no callbacks.
        internal static partial int TxBurst(ushort portId, ushort queueId, nint* mbufs, ushort count, byte freeUnsent);

        /// <summary>Returns count buffers to their pools.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_mbuf_free_bulk")]
        [SuppressGCTransition] // Ring enqueue, no callbacks.
        internal static partial void MbufFreeBulk(nint* mbufs, uint count);

        /// <summary>
        /// struct fe_rx_desc (24 bytes).
        /// <code>
        ///   0        8               16       20   22   24
        ///   +--------+---------------+--------+----+----+
        ///   | data   | timestamp_ns  |pkt_len |dlen|flgs|
        ///   +--------+---------------+--------+----+----+
        /// </code>
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct RxDesc
        {
            public ulong Data;
            public long TimestampNs;
            public uint PacketLength;
            public ushort DataLength;
            public ushort Flags;
        }
    }
}
