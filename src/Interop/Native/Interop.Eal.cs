// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class FlowShim
    {
        /// <summary>rte_eal_init over a full argument vector; returns the arguments consumed or -errno (-EALREADY when done before).</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_eal_init")]
        internal static partial int EalInit(int argc, byte** argv);

        /// <summary>rte_eal_cleanup; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_eal_cleanup")]
        internal static partial int EalCleanup();

        /// <summary>rte_thread_register: the calling thread's lcore id, or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_thread_register")]
        internal static partial int ThreadRegister();

        /// <summary>rte_thread_unregister for a thread registered with <see cref="ThreadRegister"/>.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_thread_unregister")]
        internal static partial void ThreadUnregister();

        /// <summary>The calling thread's lcore id; -1 when it is not a DPDK thread.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_lcore_id")]
        [SuppressGCTransition] // Reads a thread-local.
        internal static partial int LcoreId();

        /// <summary>NUMA sockets known to EAL.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_socket_count")]
        internal static partial int SocketCount();

        /// <summary>Id of the idx-th NUMA socket, or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_socket_id_get")]
        internal static partial int SocketIdGet(int idx);
    }
}
