// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Archive;

/// <summary>How an <see cref="ArchiveWriter"/> cuts frames and segments and what it keeps.</summary>
public sealed class ArchiveWriterOptions
{
    /// <summary>Records per frame, the unit of compression, checksum and query skipping (default 256).</summary>
    public int RecordsPerFrame { get; set; } = 256;

    /// <summary>A segment is sealed once its file reaches this size (default 64 MiB).</summary>
    public long MaxSegmentBytes { get; set; } = 64L << 20;

    /// <summary>
    /// A segment is sealed once its records span this much packet time (a record's last packet against the segment's
    /// first record's first packet; default one hour). Packet time, so a replayed capture rotates as a live one did.
    /// </summary>
    public TimeSpan MaxSegmentAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Sealed segments are deleted, oldest first, while all segments together exceed this (default 10 GiB; 0: no limit).</summary>
    public long MaxTotalBytes { get; set; } = 10L << 30;

    /// <summary>
    /// Sealed segments whose newest flow ended this much packet time before the newest flow written are deleted
    /// (default <see cref="TimeSpan.Zero"/>: kept whatever their age).
    /// </summary>
    public TimeSpan RetentionAge { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// When true (default), <see cref="ArchiveWriter.Flush"/> forces the data to the storage device (fsync) before it
    /// returns; when false, to the operating system only (survives a killed process, not a power cut).
    /// </summary>
    public bool Durable { get; set; } = true;

    /// <summary>
    /// Commits (syncs, as <see cref="ArchiveWriter.Flush"/> does) after every this many full frames, so a sink that is
    /// never flushed (a live capture) still acknowledges as it goes (default 0: only on flush).
    /// </summary>
    public int CommitEveryFrames { get; set; }

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(RecordsPerFrame, 1, nameof(RecordsPerFrame));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RecordsPerFrame, 16384, nameof(RecordsPerFrame));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSegmentBytes, 4096, nameof(MaxSegmentBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxSegmentAge, TimeSpan.Zero, nameof(MaxSegmentAge));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxTotalBytes, nameof(MaxTotalBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetentionAge, TimeSpan.Zero, nameof(RetentionAge));
        ArgumentOutOfRangeException.ThrowIfNegative(CommitEveryFrames, nameof(CommitEveryFrames));
    }
}
