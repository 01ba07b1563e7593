// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>The process's EAL; releasing it runs rte_eal_cleanup (after which EAL cannot be initialised again).</summary>
internal sealed class SafeEalHandle : SafeHandle
{
    public SafeEalHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    internal void MarkInitialized() => SetHandle(1);

    protected override bool ReleaseHandle() => FlowShim.EalCleanup() == 0;
}
