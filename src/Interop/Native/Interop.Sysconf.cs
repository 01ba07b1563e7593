// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>sysconf(3) name of the clock tick (glibc, Linux): the unit of /proc/PID/stat times.</summary>
        internal const int ScClkTck = 2;

        /// <summary>sysconf(3). Returns the value, or -1.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sysconf")]
        internal static partial long Sysconf(int name);
    }
}
