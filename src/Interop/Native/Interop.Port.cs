// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class FlowShim
    {
        /// <summary>Ports available.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_count")]
        internal static partial int PortCount();

        /// <summary>Port id of a device name (PCI address or vdev name); 0 or -ENODEV.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_find", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int PortFind(string name, out ushort portId);

        /// <summary>NUMA socket of the port (-1 when unknown), or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_socket_id")]
        internal static partial int PortSocketId(ushort portId);

        /// <summary>dev_info → configure (RSS with a symmetric key) → adjust descriptors → queue setup → MTU; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_configure")]
        internal static partial int PortConfigure(ushort portId, in PortConfig config, SafeHandle pool);

        /// <summary>rte_eth_dev_start then promiscuous mode when configured; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_start")]
        internal static partial int PortStart(ushort portId);

        /// <summary>rte_eth_dev_stop; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_stop")]
        internal static partial int PortStop(ushort portId);

        /// <summary>rte_eth_dev_close; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_close")]
        internal static partial int PortClose(ushort portId);

        /// <summary>Port counters; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_stats_get")]
        internal static partial int PortStatsGet(ushort portId, out PortStats stats);

        /// <summary>Resets the port counters; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_stats_reset")]
        internal static partial int PortStatsReset(ushort portId);

        /// <summary>Packets received by one queue (queues below RTE_ETHDEV_QUEUE_STAT_CNTRS); 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_queue_ipackets")]
        internal static partial int PortQueueIPackets(ushort portId, ushort queueId, out ulong packets);

        /// <summary>Link status without waiting; 0 or -errno.</summary>
        [LibraryImport(Libraries.FlowShim, EntryPoint = "fe_port_link_get")]
        internal static partial int PortLinkGet(ushort portId, out Link link);
    }
}
