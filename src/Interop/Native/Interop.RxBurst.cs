// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class FlowShim
    {
        /// <summary>fe_rx_desc.flags: RssHash is valid.</summary>
        internal const uint RxRssHash = 0x1;

        /// <summary>fe_rx_desc.flags: TimestampNs comes from the driver, not the host clock.</summary>
        internal const uint RxTimestamp = 0x2;

        /// <summary>fe_rx_desc.flags: the frame continues in further segments (DataLength &lt; PacketLength).</summary>
        internal const uint RxMultiSegment = 0x4;

        /// <summary>
        /// Receives up to count frames from one queue into mbufs and descs; returns the number received. The
        /// buffers belong to the caller until <see cref="MbufFreeBulk"/> or <see cref="TxBurst"/>.
        /// </summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_rx_burst")]
        [SuppressGCTransition] // Non-blocking poll of one queue, no callbacks, no allocation: see benchmark DpdkRxBurst.
        internal static partial int RxBurst(ushort portId, ushort queueId, nint* mbufs, RxDesc* descs, ushort count);

        /// <summary>Sends up to count buffers; returns how many the device took (the rest stay the caller's).</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_tx_burst")]
        [SuppressGCTransition] // Non-blocking enqueue, no callbacks.
        internal static partial int TxBurst(ushort portId, ushort queueId, nint* mbufs, ushort count);

        /// <summary>Returns count buffers to their pools.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_mbuf_free_bulk")]
        [SuppressGCTransition] // Ring enqueue, no callbacks.
        internal static partial void MbufFreeBulk(nint* mbufs, uint count);

        /// <summary>
        /// struct fe_rx_desc (32 bytes).
        /// <code>
        ///   0        8               16       20       24       28       32
        ///   +--------+---------------+--------+--------+--------+--------+
        ///   | data   | timestamp_ns  |data_len|pkt_len |rss_hash| flags  |
        ///   +--------+---------------+--------+--------+--------+--------+
        /// </code>
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct RxDesc
        {
            public ulong Data;
            public long TimestampNs;
            public uint DataLength;
            public uint PacketLength;
            public uint RssHash;
            public uint Flags;
        }
    }
}
