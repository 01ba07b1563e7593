// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>A struct rte_mempool of packet buffers; releasing it runs rte_mempool_free.</summary>
internal sealed class SafeMempoolHandle : SafeHandle
{
    public SafeMempoolHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    internal void Attach(nint pool) => SetHandle(pool);

    protected override bool ReleaseHandle()
    {
        FlowShim.MempoolFree(handle);
        return true;
    }
}
