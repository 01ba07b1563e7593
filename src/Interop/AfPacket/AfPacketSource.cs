// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Capture;
using FlowEngine.Packets;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.AfPacket;

/// <summary>
/// A Linux AF_PACKET socket with a TPACKET_V3 receive ring, as an <see cref="IPacketSource"/>: the kernel fills
/// blocks of frames in memory shared with the process; <see cref="ReadBatch"/> hands a block's frames to the
/// batch without copying and gives the block back to the kernel at the next call. Several sources on one
/// interface with the same <see cref="AfPacketOptions.FanoutGroup"/> share its traffic (PACKET_FANOUT), one
/// worker each. Needs CAP_NET_RAW.
/// </summary>
/// <remarks>
/// The kernel strips the outer VLAN tag into the frame header; such frames are rebuilt with the tag in a buffer
/// of the source's own (a copy, but only for tagged frames) so the decoder sees the frame as sent.
/// </remarks>
public sealed unsafe class AfPacketSource : IPacketSource
{
    // struct tpacket_block_desc: version, offset_to_priv, then struct tpacket_hdr_v1.
    private const int BlockStatusOffset = 8;
    private const int BlockPacketCountOffset = 12;
    private const int BlockFirstPacketOffset = 16;

    // struct tpacket3_hdr.
    private const int NextOffsetOffset = 0;
    private const int SecondsOffset = 4;
    private const int NanosecondsOffset = 8;
    private const int SnapLengthOffset = 12;
    private const int LengthOffset = 16;
    private const int StatusOffset = 20;
    private const int MacOffset = 24;
    private const int VlanTciOffset = 32;
    private const int VlanTpidOffset = 36;

    private const uint StatusUser = 1;
    private const uint StatusVlanValid = 1 << 4;
    private const uint StatusVlanTpidValid = 1 << 6;
    private const int PacketFanoutFlagDefrag = 0x8000;

    // Invariant: _ring maps _ringBytes of the socket's ring until Dispose; the block at _block is owned by this
    // process from the moment its status shows TP_STATUS_USER until it is released at the start of the next
    // ReadBatch after its last frame was delivered. _vlanArena (pinned, this source's) holds rebuilt tagged
    // frames of the current batch.
    private readonly int _fd;
    private readonly nint _ring;
    private readonly nuint _ringBytes;
    private readonly int _blockSize;
    private readonly int _blockCount;
    private readonly int _pollTimeoutMs;
    private readonly int _interfaceIndex;
    private byte[]? _vlanArena;
    private int _vlanUsed;
    private int _block;
    private int _packetIndex;
    private int _packetCount;
    private byte* _next;
    private bool _releasePending;
    private bool _disposed;
    private long _kernelPackets;
    private long _kernelDrops;

    /// <summary>Opens a socket bound to one interface, with its ring, optionally joining a fanout group.</summary>
    /// <param name="interfaceName">The interface, e.g. eth0.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <exception cref="Win32Exception">The kernel refused a step (no such interface, no CAP_NET_RAW, ring too large).</exception>
    public AfPacketSource(string interfaceName, AfPacketOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        options ??= new AfPacketOptions();
        options.Validate();
        InterfaceName = interfaceName;
        _blockSize = options.BlockSizeBytes;
        _blockCount = options.BlockCount;
        _pollTimeoutMs = options.PollTimeoutMs;
        _interfaceIndex = (int)Libc.IfNameToIndex(interfaceName);
        if (_interfaceIndex == 0)
        {
            throw Error($"no interface named {interfaceName}");
        }

        // Protocol 0: the socket receives nothing until bind names the interface and ETH_P_ALL.
        _fd = Libc.Socket(Libc.AfPacket, Libc.SockRaw, 0);
        if (_fd < 0)
        {
            throw Error("socket(AF_PACKET, SOCK_RAW) failed (CAP_NET_RAW is needed)");
        }

        try
        {
            int version = Libc.TpacketV3;
            Check(Libc.SetSockOpt(_fd, Libc.SolPacket, Libc.PacketVersion, &version, sizeof(int)), "setsockopt(PACKET_VERSION, TPACKET_V3)");
            var req = new Libc.TpacketReq3
            {
                BlockSize = (uint)_blockSize,
                BlockCount = (uint)_blockCount,
                FrameSize = (uint)options.FrameSizeBytes,
                FrameCount = (uint)((long)_blockSize / options.FrameSizeBytes * _blockCount),
                RetireBlockTimeoutMs = (uint)options.BlockTimeoutMs,
            };
            Check(Libc.SetSockOpt(_fd, Libc.SolPacket, Libc.PacketRxRing, &req, (uint)sizeof(Libc.TpacketReq3)), $"setsockopt(PACKET_RX_RING, {_blockCount} blocks of {_blockSize} bytes)");
            _ringBytes = (nuint)((long)_blockSize * _blockCount);
            _ring = Libc.Mmap(0, _ringBytes, Libc.ProtRead | Libc.ProtWrite, Libc.MapShared, _fd, 0);
            if (_ring == -1)
            {
                _ring = 0;
                throw Error($"mmap of the {_ringBytes}-byte ring failed");
            }

            var address = new Libc.SockAddrLl
            {
                Family = Libc.AfPacket,
                ProtocolNetworkOrder = BinaryPrimitives.ReverseEndianness(Libc.EthPAll),
                IfIndex = _interfaceIndex,
            };
            Check(Libc.Bind(_fd, &address, (uint)sizeof(Libc.SockAddrLl)), $"bind to {interfaceName}");
            if (options.Promiscuous)
            {
                var mreq = new Libc.PacketMreq { IfIndex = _interfaceIndex, Type = Libc.PacketMrPromisc };
                Check(Libc.SetSockOpt(_fd, Libc.SolPacket, Libc.PacketAddMembership, &mreq, (uint)sizeof(Libc.PacketMreq)), "setsockopt(PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC)");
            }

            if (options.FanoutGroup is int group)
            {
                int mode = options.FanoutMode switch
                {
                    AfPacketFanoutMode.Hash => 0 | PacketFanoutFlagDefrag,
                    AfPacketFanoutMode.LoadBalance => 1,
                    _ => 2,
                };
                int fanout = group | (mode << 16);
                Check(Libc.SetSockOpt(_fd, Libc.SolPacket, Libc.PacketFanout, &fanout, sizeof(int)), $"setsockopt(PACKET_FANOUT, group {group})");
            }
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>The interface read.</summary>
    public string InterfaceName { get; }

    /// <summary>Frames the kernel delivered to this socket and frames it dropped because the ring was full, since opening.</summary>
    /// <returns>The counters (reading them resets the kernel's; they are accumulated here).</returns>
    public (long Packets, long Drops) ReadKernelStatistics()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Libc.TpacketStatsV3 stats;
        uint length = (uint)sizeof(Libc.TpacketStatsV3);
        Check(Libc.GetSockOpt(_fd, Libc.SolPacket, Libc.PacketStatistics, &stats, &length), "getsockopt(PACKET_STATISTICS)");
        _kernelPackets += stats.Packets;
        _kernelDrops += stats.Drops;
        return (_kernelPackets, _kernelDrops);
    }

    /// <summary>
    /// Releases the previous block when it was consumed, then delivers the frames of the next ready block (as many
    /// as the batch holds), waiting up to <see cref="AfPacketOptions.PollTimeoutMs"/> for one.
    /// </summary>
    /// <param name="batch">Cleared, then filled; frames stay valid until the next call or disposal.</param>
    /// <returns>Always true (a live source); the batch is empty when nothing arrived in time.</returns>
    public bool ReadBatch(PacketBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        ObjectDisposedException.ThrowIf(_disposed, this);
        _vlanUsed = 0;
        if (_releasePending)
        {
            ReleaseBlock();
        }

        byte* block = (byte*)_ring + ((long)_block * _blockSize);
        if (_packetIndex == 0)
        {
            if ((Volatile.Read(ref *(uint*)(block + BlockStatusOffset)) & StatusUser) == 0)
            {
                var pfd = new Libc.PollFd { Fd = _fd, Events = Libc.PollIn | Libc.PollErr };
                int rc = Libc.Poll(&pfd, 1, _pollTimeoutMs);
                if (rc < 0 && Marshal.GetLastPInvokeError() != Libc.EIntr)
                {
                    throw Error("poll on the AF_PACKET socket failed");
                }

                if ((Volatile.Read(ref *(uint*)(block + BlockStatusOffset)) & StatusUser) == 0)
                {
                    return true;
                }
            }

            _packetCount = (int)*(uint*)(block + BlockPacketCountOffset);
            _next = block + *(uint*)(block + BlockFirstPacketOffset);
        }

        while (_packetIndex < _packetCount && !batch.IsFull)
        {
            byte* h = _next;
            uint status = *(uint*)(h + StatusOffset);
            int snap = (int)*(uint*)(h + SnapLengthOffset);
            int wire = (int)*(uint*)(h + LengthOffset);
            long ts = (*(uint*)(h + SecondsOffset) * 1_000_000_000L) + *(uint*)(h + NanosecondsOffset);
            byte* frame = h + *(ushort*)(h + MacOffset);
            if ((status & StatusVlanValid) != 0 && snap >= 12)
            {
                if (!AppendWithVlanTag(batch, frame, snap, wire, ts, status, h))
                {
                    break;
                }
            }
            else
            {
                batch.UnsafeAppend((nint)frame, snap, wire, ts, LinkType.Ethernet, 0);
            }

            _next = h + *(uint*)(h + NextOffsetOffset);
            _packetIndex++;
        }

        if (_packetIndex >= _packetCount)
        {
            // The frames stay in the block until the caller is done with this batch.
            _releasePending = true;
        }

        return true;
    }

    /// <summary>Closes the socket and unmaps the ring.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Release();
    }

    private bool AppendWithVlanTag(PacketBatch batch, byte* frame, int snap, int wire, long ts, uint status, byte* h)
    {
        // Rebuild dst(6) src(6) | TPID(2) TCI(2) | rest, as the frame was on the wire.
        _vlanArena ??= GC.AllocateUninitializedArray<byte>(_blockSize + (4 * batch.Capacity) + 4, pinned: true);
        int length = snap + 4;
        if (_vlanArena.Length - _vlanUsed < length)
        {
            return false;
        }

        Span<byte> dst = _vlanArena.AsSpan(_vlanUsed, length);
        new ReadOnlySpan<byte>(frame, 12).CopyTo(dst);
        ushort tpid = (status & StatusVlanTpidValid) != 0 ? *(ushort*)(h + VlanTpidOffset) : (ushort)0x8100;
        BinaryPrimitives.WriteUInt16BigEndian(dst[12..], tpid);
        BinaryPrimitives.WriteUInt16BigEndian(dst[14..], (ushort)*(uint*)(h + VlanTciOffset));
        new ReadOnlySpan<byte>(frame + 12, snap - 12).CopyTo(dst[16..]);
        nint data = (nint)Unsafe.AsPointer(ref _vlanArena[_vlanUsed]);
        _vlanUsed += length;
        batch.UnsafeAppend(data, length, wire + 4, ts, LinkType.Ethernet, 0);
        return true;
    }

    private void ReleaseBlock()
    {
        byte* block = (byte*)_ring + ((long)_block * _blockSize);
        Volatile.Write(ref *(uint*)(block + BlockStatusOffset), 0);
        _block = (_block + 1) % _blockCount;
        _packetIndex = 0;
        _packetCount = 0;
        _releasePending = false;
    }

    private void Release()
    {
        if (_ring != 0)
        {
            _ = Libc.Munmap(_ring, _ringBytes);
        }

        if (_fd >= 0)
        {
            _ = Libc.Close(_fd);
        }
    }

    private void Check(int rc, string what)
    {
        if (rc < 0)
        {
            throw Error($"{what} on {InterfaceName}");
        }
    }

    private static Win32Exception Error(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new Win32Exception(errno, $"AF_PACKET: {what}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
