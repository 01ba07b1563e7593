// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class FlowShim
    {
        /// <summary>Kinds of fe_abi_sizeof and fe_abi_offsetof (enum fe_abi_kind).</summary>
        internal enum AbiKind
        {
            RxDesc = 1,
            PortConfig = 2,
            PortStats = 3,
            Link = 4,
        }

        /// <summary>sizeof the shim's struct of that kind; -1 for an unknown kind.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_abi_sizeof")]
        [SuppressGCTransition] // Returns a constant.
        internal static partial int AbiSizeOf(AbiKind kind);

        /// <summary>Offset of the field-th field (declaration order) of the struct of that kind; -1 past the last.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_abi_offsetof")]
        [SuppressGCTransition] // Returns a constant.
        internal static partial int AbiOffsetOf(AbiKind kind, int field);

        /// <summary>"DPDK 22.11.x": the DPDK the shim runs against.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_version_get")]
        internal static partial byte* VersionGet();

        /// <summary>The calling thread's last error message (UTF-8, NUL-terminated, owned by the shim).</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_last_error")]
        [SuppressGCTransition] // Returns a thread-local pointer.
        internal static partial byte* LastError();
    }
}
