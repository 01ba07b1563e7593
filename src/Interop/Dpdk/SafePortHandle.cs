// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>
/// An ethdev port (handle = port id + 1). Releasing it stops the port, then detaches it when it is a virtual
/// device this process attached (which closes it), or closes it otherwise; a port whose creator destroys it
/// (<see cref="AttachOwned"/>: the ring ports of the tests' libflowshim_testing.so) is released by that creator.
/// </summary>
internal sealed class SafePortHandle : SafeHandle
{
    private string? _virtualDeviceName;
    private Func<bool>? _release;

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

    /// <summary>Takes a port that <paramref name="release"/> destroys (stop included) instead of stop and close.</summary>
    internal void AttachOwned(ushort portId, Func<bool> release)
    {
        _release = release;
        SetHandle((nint)portId + 1);
    }

    protected override bool ReleaseHandle()
    {
        if (_release is not null)
        {
            return _release();
        }

        ushort port = (ushort)(handle - 1);
        _ = FlowShim.PortStop(port);
        return _virtualDeviceName is not null
            ? FlowShim.VdevDetach(_virtualDeviceName) == 0
            : FlowShim.PortClose(port) == 0;
    }
}
