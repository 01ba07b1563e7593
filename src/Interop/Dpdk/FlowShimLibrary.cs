// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>
/// Loads libflowshim.so before the first shim call, so that a missing shim or a missing DPDK library is reported
/// as a <see cref="DpdkException"/> that says which one, not as a DllNotFoundException from the middle of a call.
/// </summary>
internal static class FlowShimLibrary
{
    private static readonly Lock s_lock = new();
    private static bool s_loaded;

    /// <summary>Loads the shim (once) or throws <see cref="DpdkException"/>.</summary>
    internal static void EnsureLoaded()
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
                NativeLibrary.Load(Libraries.FlowShim, typeof(FlowShimLibrary).Assembly, null);
            }
            catch (DllNotFoundException e)
            {
                throw Classify(e.Message, e);
            }

            Volatile.Write(ref s_loaded, true);
        }
    }

    /// <summary>Loads a shim from an explicit path (tests, custom deployments) and classifies failures the same way.</summary>
    internal static void LoadFrom(string path)
    {
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
        }
        catch (DllNotFoundException e)
        {
            throw Classify(e.Message, e);
        }
    }

    /// <summary>
    /// A dynamic loader message naming a librte_ library means the shim was found but DPDK was not; anything else
    /// means the shim itself is missing (or unreadable).
    /// </summary>
    internal static DpdkException Classify(string loaderMessage, Exception? inner)
    {
        int rte = loaderMessage.IndexOf("librte_", StringComparison.Ordinal);
        if (rte >= 0)
        {
            int end = loaderMessage.IndexOf(':', rte);
            string library = end > rte ? loaderMessage[rte..end] : "librte_*.so";
            return new DpdkException(
                DpdkFailure.DpdkLibrariesMissing,
                0,
                $"libflowshim.so was found but the DPDK library {library} was not: install DPDK 22.11 (Debian: apt-get install libdpdk-dev or the librte-* runtime packages). Loader: {loaderMessage}",
                inner);
        }

        string? where = Path.GetDirectoryName(typeof(FlowShimLibrary).Assembly.Location);
        return new DpdkException(
            DpdkFailure.ShimMissing,
            0,
            $"libflowshim.so (the native DPDK shim) was not found next to {where} or in runtimes/linux-x64/native: build it with 'make -C native' (needs libdpdk-dev) or reference the FlowEngine.Interop package. Loader: {loaderMessage}",
            inner);
    }
}
