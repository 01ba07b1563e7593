// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Interop.Dpdk;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Testing;

/// <summary>
/// Ring ports for tests and benchmarks: frames loaded once from memory and replayed through the shipped shim's
/// burst calls, with no capture device. Created by libflowshim_testing.so (<see cref="FlowShimTesting"/>).
/// </summary>
internal static class RingPorts
{
    private static readonly Lock s_lock = new();
    private static bool s_loaded;

    /// <summary>
    /// Creates a ring port (net_ring over one rte_ring that is both its RX and its TX queue): frames sent on TX
    /// queue 0 are received again on RX queue 0, in order, neither copied nor freed. Load it with
    /// <see cref="LoadRing"/>; configure it with one RX and one TX queue.
    /// </summary>
    /// <param name="eal">The EAL of this process, initialised.</param>
    /// <param name="name">Ring name, 1 to 22 characters; the port is "net_ring_" + name.</param>
    /// <param name="capacity">Buffers the ring holds.</param>
    /// <returns>The port; disposing it detaches it and frees the ring with the buffers still in it.</returns>
    internal static DpdkPort CreateRingPort(this DpdkEal eal, string name, int capacity)
    {
        ArgumentNullException.ThrowIfNull(eal);
        ObjectDisposedException.ThrowIf(!ReferenceEquals(DpdkEal.Current, eal), eal);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        EnsureLoaded();
        int rc = FlowShimTesting.RingPortCreate(name, (uint)capacity, -1, out ushort portId);
        if (rc < 0)
        {
            throw Error(rc, $"creating ring port {name}", DpdkFailure.PortNotFound);
        }

        var handle = new SafePortHandle();
        handle.AttachOwned(portId, () => FlowShimTesting.RingPortDestroy(name) == 0);
        return new DpdkPort(handle, "net_ring_" + name);
    }

    /// <summary>
    /// Setup of a ring port (<see cref="CreateRingPort"/>): copies each frame once into a buffer of
    /// <paramref name="mempool"/> and sends them all on TX queue 0, which is the ring RX queue 0 reads.
    /// </summary>
    /// <param name="port">A configured ring port.</param>
    /// <param name="mempool">Where the buffers come from; must outlive the port.</param>
    /// <param name="data">The frames, one after the other.</param>
    /// <param name="lengths">Bytes of each frame.</param>
    /// <param name="timestampsNs">Empty, or each frame's timestamp (ns since the Unix epoch), reported when the port is configured with driver timestamps.</param>
    internal static unsafe void LoadRing(this DpdkPort port, DpdkMempool mempool, ReadOnlySpan<byte> data, ReadOnlySpan<uint> lengths, ReadOnlySpan<long> timestampsNs)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(mempool);
        ObjectDisposedException.ThrowIf(port.Handle.IsClosed, port);
        if (!timestampsNs.IsEmpty && timestampsNs.Length != lengths.Length)
        {
            throw new ArgumentException($"{timestampsNs.Length} timestamps for {lengths.Length} frames", nameof(timestampsNs));
        }

        if (port.TxQueues < 1)
        {
            throw new InvalidOperationException($"port {port.Name} has no TX queue");
        }

        EnsureLoaded();
        nint[] mbufs = new nint[lengths.Length];
        fixed (byte* d = data)
        fixed (uint* l = lengths)
        fixed (long* t = timestampsNs)
        fixed (nint* m = mbufs)
        {
            int rc = FlowShimTesting.MbufLoad(mempool.Handle, d, l, timestampsNs.IsEmpty ? null : t, (uint)lengths.Length, m);
            if (rc < 0)
            {
                throw Error(rc, $"loading {lengths.Length} frames for port {port.Name}", DpdkFailure.NativeCall);
            }

            for (int at = 0; at < mbufs.Length;)
            {
                int count = Math.Min(mbufs.Length - at, ushort.MaxValue);
                int sent = FlowShim.TxBurst((ushort)port.PortId, 0, m + at, (ushort)count, freeUnsent: 0);
                at += sent;
                if (sent < count)
                {
                    FlowShim.MbufFreeBulk(m + at, (uint)(mbufs.Length - at));
                    throw new InvalidOperationException($"port {port.Name} took {at} of {mbufs.Length} frames (ring too small?)");
                }
            }
        }
    }

    /// <summary>Loads the testing library once, or fails saying how to build it.</summary>
    private static void EnsureLoaded()
    {
        if (Volatile.Read(ref s_loaded))
        {
            return;
        }

        lock (s_lock)
        {
            if (s_loaded)
            {
                return;
            }

            try
            {
                _ = NativeLibrary.Load(FlowShimTesting.Library, typeof(FlowShimTesting).Assembly, null);
            }
            catch (DllNotFoundException e)
            {
                throw new DpdkException(
                    DpdkFailure.ShimMissing,
                    0,
                    $"libflowshim_testing.so (the ring ports of tests and benchmarks) was not found next to {AppContext.BaseDirectory}: build it with 'make -C native' (needs libdpdk-dev), then rebuild. Loader: {e.Message}",
                    e);
            }

            Volatile.Write(ref s_loaded, true);
        }
    }

    /// <summary>A failed call of the testing library, with its message for the calling thread.</summary>
    private static unsafe DpdkException Error(int rc, string operation, DpdkFailure failure)
    {
        string detail = Marshal.PtrToStringUTF8((nint)FlowShimTesting.LastError()) ?? string.Empty;
        if (detail.Length == 0)
        {
            detail = $"error {rc}";
        }

        return new DpdkException(failure, rc, $"{operation}: {detail} (errno {-rc})");
    }
}
