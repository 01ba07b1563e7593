// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static class Libraries
    {
        /// <summary>The shim over DPDK built from native/ (libflowshim.so).</summary>
        internal const string FlowShim = "libflowshim";

        /// <summary>The C library (sched_setaffinity, sockets, mmap, poll).</summary>
        internal const string Libc = "libc";
    }
}
