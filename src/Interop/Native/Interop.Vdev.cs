// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class FlowShim
    {
        /// <summary>Hot-plugs a virtual device (rte_eal_hotplug_add on the vdev bus) and returns its port; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_vdev_attach", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int VdevAttach(string name, string args, out ushort portId);

        /// <summary>Removes a virtual device (closes its port); 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_vdev_detach", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int VdevDetach(string name);
    }
}
