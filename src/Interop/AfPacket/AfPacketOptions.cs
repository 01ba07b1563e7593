// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.AfPacket;

/// <summary>Settings of an <see cref="AfPacketSource"/>.</summary>
public sealed class AfPacketOptions
{
    /// <summary>Bytes per ring block (a multiple of the page size). Default: 1 MiB.</summary>
    public int BlockSizeBytes { get; set; } = 1 << 20;

    /// <summary>Blocks in the ring. Default: 16.</summary>
    public int BlockCount { get; set; } = 16;

    /// <summary>Frame slot size the kernel uses to size the ring (a multiple of 16, at least the snap length). Default: 2048.</summary>
    public int FrameSizeBytes { get; set; } = 2048;

    /// <summary>Milliseconds after which the kernel hands over a block that is not full. Default: 10.</summary>
    /// <remarks>
    /// At low rates every block is retired by this timeout with only a few frames in it, so the ring absorbs a
    /// reader stall of about <see cref="BlockCount"/> x this timeout, whatever its size in bytes.
    /// </remarks>
    public int BlockTimeoutMs { get; set; } = 10;

    /// <summary>Longest wait in <see cref="AfPacketSource.ReadBatch"/> when no block is ready. Default: 100.</summary>
    public int PollTimeoutMs { get; set; } = 100;

    /// <summary>PACKET_FANOUT group id (0 to 65535) shared by the sockets of one interface's workers; null for none.</summary>
    public int? FanoutGroup { get; set; }

    /// <summary>Fanout mode. Default: <see cref="AfPacketFanoutMode.Hash"/>.</summary>
    public AfPacketFanoutMode FanoutMode { get; set; } = AfPacketFanoutMode.Hash;

    /// <summary>Put the interface in promiscuous mode while the socket is open. Default: false.</summary>
    public bool Promiscuous { get; set; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockSizeBytes, 4096);
        if (BlockSizeBytes % Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSizeBytes), BlockSizeBytes, $"must be a multiple of the page size ({Environment.SystemPageSize})");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(BlockCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(FrameSizeBytes, 64);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(FrameSizeBytes, BlockSizeBytes);
        if (FrameSizeBytes % 16 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(FrameSizeBytes), FrameSizeBytes, "must be a multiple of 16 (TPACKET_ALIGNMENT)");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(BlockTimeoutMs);
        ArgumentOutOfRangeException.ThrowIfNegative(PollTimeoutMs);
        if (FanoutGroup is int g)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(g);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(g, ushort.MaxValue);
        }
    }
}
