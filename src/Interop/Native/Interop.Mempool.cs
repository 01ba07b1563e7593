// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class FlowShim
    {
        /// <summary>rte_pktmbuf_pool_create; 0 or -errno. socketId -1 is any socket; dataRoom 0 is the DPDK default.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_mempool_create", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int MempoolCreate(string name, uint mbufs, uint cacheSize, ushort dataRoom, int socketId, out nint pool);

        /// <summary>rte_mempool_free.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_mempool_free")]
        internal static partial void MempoolFree(nint pool);

        /// <summary>Buffers in the pool (ring and per-lcore caches), or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_mempool_avail")]
        internal static partial int MempoolAvail(SafeHandle pool);
    }
}
