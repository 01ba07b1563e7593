// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Testing;

/// <summary>
/// Bindings of libflowshim_testing.so (native/testing/fe_testing.h): ring ports loaded from memory, which only
/// tests and benchmarks use, kept out of the shipped libflowshim.so. <c>make -C native</c> builds the library beside
/// the shim; the Interop tests and the benchmarks copy it next to their binaries and compile this folder in.
/// </summary>
internal static unsafe partial class FlowShimTesting
{
    /// <summary>The testing library; it needs DPDK (and its net_ring driver), not the shim.</summary>
    internal const string Library = "libflowshim_testing";

    /// <summary>The calling thread's last error message from this library (the shim's fe_last_error does not see it).</summary>
    [LibraryImport(Library, EntryPoint = "fe_testing_last_error")]
    [SuppressGCTransition] // Returns a thread-local pointer.
    internal static partial byte* LastError();

    /// <summary>
    /// An ethdev ("net_ring_" + name) over one rte_ring of capacity entries that is both its RX and its TX queue:
    /// frames sent are received again, in order, neither copied nor freed. Name: 1 to 22 characters. 0 or -errno.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "fe_ring_port_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RingPortCreate(string name, uint capacity, int socketId, out ushort portId);

    /// <summary>Stops and detaches a ring port, frees the buffers still in its ring and the ring; 0 or -errno.</summary>
    [LibraryImport(Library, EntryPoint = "fe_ring_port_destroy", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RingPortDestroy(string name);

    /// <summary>
    /// Setup only: allocates count buffers from pool into mbufs and copies frame i (lengths[i] bytes, in turn
    /// from data) into buffer i; with timestampsNs (may be null), stamps each in the mbuf timestamp field. All
    /// or nothing; 0 or -errno (-ENOBUFS: pool short, -EMSGSIZE: a frame exceeds a buffer).
    /// </summary>
    [LibraryImport(Library, EntryPoint = "fe_mbuf_load")]
    internal static partial int MbufLoad(SafeHandle pool, byte* data, uint* lengths, long* timestampsNs, uint count, nint* mbufs);
}
