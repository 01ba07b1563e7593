// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class FlowShim
    {
        /// <summary>
        /// An ethdev ("net_ring_" + name) over one rte_ring of capacity entries that is both its RX and its TX queue:
        /// frames sent are received again, in order, neither copied nor freed. Name: 1 to 22 characters. 0 or -errno.
        /// </summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_ring_port_create", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int RingPortCreate(string name, uint capacity, int socketId, out ushort portId);

        /// <summary>Stops and detaches a ring port, frees the buffers still in its ring and the ring; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_ring_port_destroy", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int RingPortDestroy(string name);

        /// <summary>
        /// Setup only: allocates count buffers from pool into mbufs and copies frame i (lengths[i] bytes, in turn
        /// from data) into buffer i; with timestampsNs (may be null), stamps each in the mbuf timestamp field. All
        /// or nothing; 0 or -errno (-ENOBUFS: pool short, -EMSGSIZE: a frame exceeds a buffer).
        /// </summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_mbuf_load")]
        internal static partial int MbufLoad(SafeHandle pool, byte* data, uint* lengths, long* timestampsNs, uint count, nint* mbufs);
    }
}
