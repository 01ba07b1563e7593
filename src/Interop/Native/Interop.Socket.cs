// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Interop.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        internal const int AfPacket = 17;
        internal const int SockRaw = 3;
        internal const ushort EthPAll = 0x0003;
        internal const int SolPacket = 263;
        internal const int PacketAddMembership = 1;
        internal const int PacketRxRing = 5;
        internal const int PacketStatistics = 6;
        internal const int PacketVersion = 10;
        internal const int PacketFanout = 18;
        internal const int TpacketV3 = 2;
        internal const ushort PacketMrPromisc = 1;
        internal const short PollIn = 0x1;
        internal const short PollErr = 0x8;
        internal const int ProtRead = 0x1;
        internal const int ProtWrite = 0x2;
        internal const int MapShared = 0x1;
        internal const int MapLocked = 0x2000;
        internal const int EIntr = 4;

        /// <summary>socket(2); -1 with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
        internal static partial int Socket(int domain, int type, int protocol);

        /// <summary>bind(2); -1 with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
        internal static partial int Bind(int fd, void* address, uint addressLength);

        /// <summary>setsockopt(2); -1 with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
        internal static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

        /// <summary>getsockopt(2); -1 with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
        internal static partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

        /// <summary>close(2).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);

        /// <summary>poll(2): blocks up to timeoutMs; -1 with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
        internal static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

        /// <summary>if_nametoindex(3): 0 with errno when there is no such interface.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial uint IfNameToIndex(string name);

        /// <summary>mmap(2): MAP_FAILED (-1) with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

        /// <summary>munmap(2).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int Munmap(nint address, nuint length);

        /// <summary>struct pollfd.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PollFd
        {
            public int Fd;
            public short Events;
            public short REvents;
        }

        /// <summary>struct sockaddr_ll (20 bytes); Protocol in network order.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct SockAddrLl
        {
            public ushort Family;
            public ushort ProtocolNetworkOrder;
            public int IfIndex;
            public ushort HaType;
            public byte PktType;
            public byte HaLen;
            public ulong Address;
        }

        /// <summary>struct tpacket_req3 (28 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TpacketReq3
        {
            public uint BlockSize;
            public uint BlockCount;
            public uint FrameSize;
            public uint FrameCount;
            public uint RetireBlockTimeoutMs;
            public uint SizeOfPriv;
            public uint FeatureRequestWord;
        }

        /// <summary>struct packet_mreq (16 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PacketMreq
        {
            public int IfIndex;
            public ushort Type;
            public ushort AddressLength;
            public ulong Address;
        }

        /// <summary>struct tpacket_stats_v3 (12 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TpacketStatsV3
        {
            public uint Packets;
            public uint Drops;
            public uint FreezeQueueCount;
        }
    }
}
