// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>
/// An ethdev port (handle = port id + 1). Releasing it stops the port, then detaches it when it is a virtual
/// device this process attached (which closes it), or closes it otherwise; a ring port this process created is
/// destroyed with its ring and the buffers still queued in it.
/// </summary>
internal sealed class SafePortHandle : SafeHandle
{
    private string? _virtualDeviceName;
    private string? _ringName;

    public SafePortHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    internal ushort PortId => (ushort)(handle - 1);

    internal void Attach(ushort portId, string? virtualDeviceName)
    {
        _virtualDeviceName = virtualDeviceName;
        SetHandle((nint)portId + 1);
    }

    internal void AttachRing(ushort portId, string ringName)
    {
        _ringName = ringName;
        SetHandle((nint)portId + 1);
    }

    protected override bool ReleaseHandle()
    {
        if (_ringName is not null)
        {
            return FlowShim.RingPortDestroy(_ringName) == 0;
        }

        ushort port = (ushort)(handle - 1);
        _ = FlowShim.PortStop(port);
        return _virtualDeviceName is not null
            ? FlowShim.VdevDetach(_virtualDeviceName) == 0
            : FlowShim.PortClose(port) == 0;
    }
}
