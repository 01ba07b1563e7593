// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static partial class FlowShim
    {
        /// <summary>struct fe_port_config (16 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PortConfig
        {
            public ushort RxQueues;
            public ushort TxQueues;
            public ushort RxDescriptors;
            public ushort TxDescriptors;
            public ushort Mtu;
            public byte Promiscuous;
            public byte Rss;
            public byte RxTimestamp;
            private readonly byte _padding0;
            private readonly byte _padding1;
            private readonly byte _padding2;
        }

        /// <summary>struct fe_port_stats (64 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PortStats
        {
            public ulong IPackets;
            public ulong OPackets;
            public ulong IBytes;
            public ulong OBytes;
            public ulong IMissed;
            public ulong IErrors;
            public ulong OErrors;
            public ulong RxNoMbuf;
        }

        /// <summary>struct fe_link (8 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Link
        {
            public uint SpeedMbps;
            public byte Up;
            public byte FullDuplex;
            public byte Autoneg;
            private readonly byte _padding;
        }
    }
}
