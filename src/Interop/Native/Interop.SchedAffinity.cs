// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        /// <summary>Bytes of a glibc cpu_set_t (1024 CPUs).</summary>
        internal const int CpuSetBytes = 128;

        /// <summary>sched_setaffinity(2); pid 0 is the calling thread. Returns 0 or -1 with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
        internal static partial int SchedSetAffinity(int pid, nuint cpuSetSize, byte* mask);

        /// <summary>sched_getaffinity(2); pid 0 is the calling thread. Returns 0 or -1 with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
        internal static partial int SchedGetAffinity(int pid, nuint cpuSetSize, byte* mask);
    }
}
