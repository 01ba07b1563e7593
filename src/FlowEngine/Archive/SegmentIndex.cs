// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Text;

namespace FlowEngine.Archive;

/// <summary>One frame's header, parsed: where it is and what its records span (the index entry of the frame).</summary>
internal sealed class FrameInfo
{
    public FrameInfo(long offset, byte[] header)
    {
        Offset = offset;
        Header = header;
        ReadOnlySpan<byte> h = header;
        RecordCount = BinaryPrimitives.ReadInt32LittleEndian(h[8..]);
        RawLength = BinaryPrimitives.ReadInt32LittleEndian(h[16..]);
        PayloadLength = BinaryPrimitives.ReadInt32LittleEndian(h[20..]);
        ContextOffset = BinaryPrimitives.ReadInt32LittleEndian(h[24..]);
        PayloadCrc = BinaryPrimitives.ReadUInt32LittleEndian(h[28..]);
        MinFirstNs = BinaryPrimitives.ReadInt64LittleEndian(h[32..]);
        MaxFirstNs = BinaryPrimitives.ReadInt64LittleEndian(h[40..]);
        MinLastNs = BinaryPrimitives.ReadInt64LittleEndian(h[48..]);
        MaxLastNs = BinaryPrimitives.ReadInt64LittleEndian(h[56..]);
        MinV4 = BinaryPrimitives.ReadUInt32LittleEndian(h[64..]);
        MaxV4 = BinaryPrimitives.ReadUInt32LittleEndian(h[68..]);
        AppMask = BinaryPrimitives.ReadUInt16LittleEndian(h[72..]);
        Flags = BinaryPrimitives.ReadUInt16LittleEndian(h[74..]);
        AlertCount = BinaryPrimitives.ReadInt32LittleEndian(h[76..]);
    }

    public const ushort FlagIpv6 = 1;
    public const ushort FlagIpv4 = 2;

    public long Offset { get; }

    public byte[] Header { get; }

    public int RecordCount { get; }

    public int RawLength { get; }

    public int PayloadLength { get; }

    public int ContextOffset { get; }

    public uint PayloadCrc { get; }

    public long MinFirstNs { get; }

    public long MaxFirstNs { get; }

    public long MinLastNs { get; }

    public long MaxLastNs { get; }

    public uint MinV4 { get; }

    public uint MaxV4 { get; }

    public ushort AppMask { get; }

    public ushort Flags { get; }

    public int AlertCount { get; }

    public long End => Offset + ArchiveFormat.FrameHeaderSize + PayloadLength;

    public ReadOnlySpan<byte> Bloom => Header.AsSpan(ArchiveFormat.BloomOffset, ArchiveFormat.BloomBits / 8);

    /// <summary>Checks a frame header's bytes; null when good, else what is wrong.</summary>
    public static string? Check(ReadOnlySpan<byte> h)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != ArchiveFormat.FrameMagic)
        {
            return "no frame starts here (bad magic)";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(h[(ArchiveFormat.FrameHeaderSize - 4)..]) != ArchiveFormat.Crc32C(h[..(ArchiveFormat.FrameHeaderSize - 4)]))
        {
            return "frame header checksum mismatch";
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(h[4..]);
        int headerSize = BinaryPrimitives.ReadUInt16LittleEndian(h[6..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(h[8..]);
        int recordSize = BinaryPrimitives.ReadUInt16LittleEndian(h[12..]);
        int raw = BinaryPrimitives.ReadInt32LittleEndian(h[16..]);
        int payload = BinaryPrimitives.ReadInt32LittleEndian(h[20..]);
        int context = BinaryPrimitives.ReadInt32LittleEndian(h[24..]);
        if (version != ArchiveFormat.Version || headerSize != ArchiveFormat.FrameHeaderSize || recordSize != ArchiveFormat.RecordSize)
        {
            return $"frame version {version}, header {headerSize} B, record {recordSize} B not supported";
        }

        if (count <= 0 || count > ArchiveFormat.MaxRecordsPerFrame || raw <= 0 || raw > ArchiveFormat.MaxRawFrameBytes
            || payload <= 0 || payload > ArchiveFormat.MaxRawFrameBytes + (ArchiveFormat.MaxRawFrameBytes / 255) + 16
            || context != (long)count * recordSize || context > raw)
        {
            return "frame header lengths out of range";
        }

        return null;
    }
}

/// <summary>The numbers of a segment's index header.</summary>
internal struct SegmentSummary
{
    public long Sequence;
    public int FrameCount;
    public long RecordCount;
    public long MinFirstNs;
    public long MaxFirstNs;
    public long MinLastNs;
    public long MaxLastNs;
    public long ValidLength;
    public long DamagedOffset;
    public long FileLength;
}

/// <summary>
/// What a segment holds, frame by frame: read from its index file (<c>.fei</c>) when that is intact, else rebuilt by
/// walking the frame headers of the segment file.
/// </summary>
/// <remarks>
/// <code>
/// index file
///  0 magic "FEAI"   4 version u16   6 header size u16   8 segment sequence i64   16 frame count u32
/// 20 VM name count u32   24 VNI count u32   28 flags u32   32 record count i64
/// 40 min first ns   48 max first ns   56 min last ns   64 max last ns   72 valid length i64
/// 80 damaged offset i64 (-1: none)   88 segment file length i64
/// 96 frames: (offset i64 + the frame's 360 header bytes) each; VNIs: u32 each; VM names: u16 length + UTF-8 each
/// last 4 bytes: CRC32C of everything before
/// </code>
/// </remarks>
internal sealed class SegmentIndex
{
    public SegmentIndex(string path, long sequence)
    {
        Path = path;
        Sequence = sequence;
    }

    public string Path { get; }

    public long Sequence { get; }

    public List<FrameInfo> Frames { get; } = [];

    /// <summary>VM names in the segment; null when not known (a segment rebuilt from headers only).</summary>
    public HashSet<string>? VmNames { get; set; }

    /// <summary>Virtual network ids in the segment; null when not known.</summary>
    public HashSet<uint>? Vnis { get; set; }

    public long RecordCount { get; set; }

    public long MinFirstNs { get; set; } = long.MaxValue;

    public long MaxFirstNs { get; set; } = long.MinValue;

    public long MinLastNs { get; set; } = long.MaxValue;

    public long MaxLastNs { get; set; } = long.MinValue;

    /// <summary>End of the last good frame.</summary>
    public long ValidLength { get; set; } = ArchiveFormat.SegmentHeaderSize;

    /// <summary>Where the damage starts (-1: none).</summary>
    public long DamagedOffset { get; set; } = -1;

    public string? DamageMessage { get; set; }

    public long FileLength { get; set; }

    /// <summary>True when read from the index file (not rebuilt by a scan).</summary>
    public bool FromIndexFile { get; init; }

    public void Add(FrameInfo frame)
    {
        Frames.Add(frame);
        RecordCount += frame.RecordCount;
        MinFirstNs = Math.Min(MinFirstNs, frame.MinFirstNs);
        MaxFirstNs = Math.Max(MaxFirstNs, frame.MaxFirstNs);
        MinLastNs = Math.Min(MinLastNs, frame.MinLastNs);
        MaxLastNs = Math.Max(MaxLastNs, frame.MaxLastNs);
        ValidLength = frame.End;
    }

    /// <summary>Walks the frame headers of a segment file (payloads are skipped, checked when read).</summary>
    public static SegmentIndex Scan(string path, long sequence)
    {
        var index = new SegmentIndex(path, sequence);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.RandomAccess);
        long length = file.Length;
        index.FileLength = length;
        Span<byte> segmentHeader = stackalloc byte[ArchiveFormat.SegmentHeaderSize];
        int got = file.ReadAtLeast(segmentHeader, segmentHeader.Length, throwOnEndOfStream: false);
        if (CheckHeader(segmentHeader[..got], sequence) is string bad)
        {
            // Every frame checks itself: a damaged segment header is named, and the frames after it are still read.
            index.HeaderProblem = bad;
            if (got < ArchiveFormat.SegmentHeaderSize)
            {
                index.MarkDamaged(0, bad);
                return index;
            }
        }

        long offset = ArchiveFormat.SegmentHeaderSize;
        while (offset < length)
        {
            if (length - offset < ArchiveFormat.FrameHeaderSize)
            {
                index.MarkDamaged(offset, $"torn frame: {length - offset} bytes of a {ArchiveFormat.FrameHeaderSize}-byte frame header at the end of the file");
                break;
            }

            byte[] header = new byte[ArchiveFormat.FrameHeaderSize];
            file.Position = offset;
            file.ReadExactly(header);
            if (FrameInfo.Check(header) is string problem)
            {
                index.MarkDamaged(offset, problem);
                break;
            }

            var frame = new FrameInfo(offset, header);
            if (frame.End > length)
            {
                index.MarkDamaged(offset, $"torn frame: its payload needs {frame.End - offset - ArchiveFormat.FrameHeaderSize} bytes, the file has {length - offset - ArchiveFormat.FrameHeaderSize}");
                break;
            }

            index.Add(frame);
            offset = frame.End;
        }

        return index;
    }

    /// <summary>What is wrong with the segment header, or null.</summary>
    public string? HeaderProblem { get; set; }

    public static string? CheckHeader(ReadOnlySpan<byte> header, long sequence)
    {
        if (ArchiveFormat.CheckSegmentHeader(header, out long headerSequence) is string bad)
        {
            return bad;
        }

        return headerSequence != sequence ? $"segment header says sequence {headerSequence}, the file name {sequence}" : null;
    }

    private void MarkDamaged(long offset, string message)
    {
        DamagedOffset = offset;
        DamageMessage = message;
    }

    public void Write(string indexPath, bool durable)
    {
        const int Entry = 8 + ArchiveFormat.FrameHeaderSize;
        byte[] entries = new byte[Frames.Count * Entry];
        for (int i = 0; i < Frames.Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(entries.AsSpan(i * Entry), Frames[i].Offset);
            Frames[i].Header.CopyTo(entries.AsSpan((i * Entry) + 8));
        }

        var summary = new SegmentSummary
        {
            Sequence = Sequence,
            FrameCount = Frames.Count,
            RecordCount = RecordCount,
            MinFirstNs = MinFirstNs,
            MaxFirstNs = MaxFirstNs,
            MinLastNs = MinLastNs,
            MaxLastNs = MaxLastNs,
            ValidLength = ValidLength,
            DamagedOffset = DamagedOffset,
            FileLength = FileLength,
        };
        byte[] buffer = [];
        WriteFile(indexPath, in summary, entries, Vnis, VmNames, DamageMessage, durable, ref buffer);
    }

    /// <summary>Writes an index file from a summary and the frames' (offset, header) entries, through a reusable buffer.</summary>
    public static void WriteFile(
        string indexPath, in SegmentSummary summary, ReadOnlySpan<byte> entries, HashSet<uint>? vnis, HashSet<string>? names, string? damage, bool durable, ref byte[] buffer)
    {
        int size = ArchiveFormat.IndexHeaderSize + entries.Length + (4 * (vnis?.Count ?? 0)) + 2 + Encoding.UTF8.GetMaxByteCount(Math.Min(damage?.Length ?? 0, 1024)) + 4;
        foreach (string name in names ?? [])
        {
            size += 2 + Encoding.UTF8.GetMaxByteCount(name.Length);
        }

        if (buffer.Length < size)
        {
            buffer = new byte[Math.Max(size, buffer.Length * 2)];
        }

        Span<byte> b = buffer;
        Span<byte> h = b[..ArchiveFormat.IndexHeaderSize];
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h, ArchiveFormat.IndexMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], ArchiveFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], ArchiveFormat.IndexHeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(h[8..], summary.Sequence);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], summary.FrameCount);
        BinaryPrimitives.WriteInt32LittleEndian(h[20..], names?.Count ?? 0);
        BinaryPrimitives.WriteInt32LittleEndian(h[24..], vnis?.Count ?? 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], names is null ? 1u : 0u);
        BinaryPrimitives.WriteInt64LittleEndian(h[32..], summary.RecordCount);
        BinaryPrimitives.WriteInt64LittleEndian(h[40..], summary.MinFirstNs);
        BinaryPrimitives.WriteInt64LittleEndian(h[48..], summary.MaxFirstNs);
        BinaryPrimitives.WriteInt64LittleEndian(h[56..], summary.MinLastNs);
        BinaryPrimitives.WriteInt64LittleEndian(h[64..], summary.MaxLastNs);
        BinaryPrimitives.WriteInt64LittleEndian(h[72..], summary.ValidLength);
        BinaryPrimitives.WriteInt64LittleEndian(h[80..], summary.DamagedOffset);
        BinaryPrimitives.WriteInt64LittleEndian(h[88..], summary.FileLength);
        int n = ArchiveFormat.IndexHeaderSize;
        entries.CopyTo(b[n..]);
        n += entries.Length;
        if (vnis is not null)
        {
            foreach (uint vni in vnis)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b[n..], vni);
                n += 4;
            }
        }

        if (names is not null)
        {
            foreach (string name in names)
            {
                int length = Encoding.UTF8.GetBytes(name, b[(n + 2)..]);
                length = Math.Min(length, ushort.MaxValue);
                BinaryPrimitives.WriteUInt16LittleEndian(b[n..], (ushort)length);
                n += 2 + length;
            }
        }

        string message = damage is null ? string.Empty : damage[..Math.Min(damage.Length, 1024)];
        int messageLength = Encoding.UTF8.GetBytes(message, b[(n + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(b[n..], (ushort)messageLength);
        n += 2 + messageLength;
        BinaryPrimitives.WriteUInt32LittleEndian(b[n..], ArchiveFormat.Crc32C(b[..n]));
        n += 4;

        // Written aside and renamed over: a reader sees the old index, the new one, or none, never half of one.
        string temporary = indexPath + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1))
        {
            file.Write(b[..n]);
            file.Flush(durable);
        }

        File.Move(temporary, indexPath, overwrite: true);
    }

    /// <summary>Reads an index file; null with <paramref name="problem"/> set when it is damaged or does not belong to the segment.</summary>
    public static SegmentIndex? TryRead(string indexPath, string segmentPath, long sequence, out string? problem)
    {
        problem = null;
        byte[] data;
        try
        {
            data = File.ReadAllBytes(indexPath);
        }
        catch (IOException e)
        {
            problem = e.Message;
            return null;
        }

        try
        {
            ReadOnlySpan<byte> d = data;
            if (d.Length < ArchiveFormat.IndexHeaderSize + 4 || BinaryPrimitives.ReadUInt32LittleEndian(d) != ArchiveFormat.IndexMagic)
            {
                problem = "not an archive index";
                return null;
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(d[^4..]) != ArchiveFormat.Crc32C(d[..^4]))
            {
                problem = "index checksum mismatch";
                return null;
            }

            if (BinaryPrimitives.ReadUInt16LittleEndian(d[4..]) != ArchiveFormat.Version || BinaryPrimitives.ReadInt64LittleEndian(d[8..]) != sequence)
            {
                problem = "index version or sequence does not match its segment";
                return null;
            }

            var index = new SegmentIndex(segmentPath, sequence) { FromIndexFile = true };
            int frames = BinaryPrimitives.ReadInt32LittleEndian(d[16..]);
            int names = BinaryPrimitives.ReadInt32LittleEndian(d[20..]);
            int vnis = BinaryPrimitives.ReadInt32LittleEndian(d[24..]);
            bool namesUnknown = (BinaryPrimitives.ReadUInt32LittleEndian(d[28..]) & 1) != 0;
            long damaged = BinaryPrimitives.ReadInt64LittleEndian(d[80..]);
            index.FileLength = BinaryPrimitives.ReadInt64LittleEndian(d[88..]);
            int p = ArchiveFormat.IndexHeaderSize;
            int entry = 8 + ArchiveFormat.FrameHeaderSize;
            if (frames < 0 || names < 0 || vnis < 0 || (long)frames * entry > d.Length - p)
            {
                problem = "index counts out of range";
                return null;
            }

            for (int i = 0; i < frames; i++, p += entry)
            {
                long offset = BinaryPrimitives.ReadInt64LittleEndian(d[p..]);
                byte[] header = d.Slice(p + 8, ArchiveFormat.FrameHeaderSize).ToArray();
                if (FrameInfo.Check(header) is string bad)
                {
                    problem = $"index entry {i}: {bad}";
                    return null;
                }

                index.Add(new FrameInfo(offset, header));
            }

            index.Vnis = new HashSet<uint>(vnis);
            for (int i = 0; i < vnis; i++, p += 4)
            {
                index.Vnis.Add(BinaryPrimitives.ReadUInt32LittleEndian(d[p..]));
            }

            index.VmNames = namesUnknown ? null : new HashSet<string>(names, StringComparer.Ordinal);
            for (int i = 0; i < names; i++)
            {
                int n = BinaryPrimitives.ReadUInt16LittleEndian(d[p..]);
                index.VmNames?.Add(Encoding.UTF8.GetString(d.Slice(p + 2, n)));
                p += 2 + n;
            }

            if (namesUnknown)
            {
                index.Vnis = null;
            }

            int messageLength = BinaryPrimitives.ReadUInt16LittleEndian(d[p..]);
            string message = Encoding.UTF8.GetString(d.Slice(p + 2, messageLength));
            if (p + 2 + messageLength != d.Length - 4)
            {
                problem = "index length does not match its counts";
                return null;
            }

            if (damaged >= 0)
            {
                index.DamagedOffset = damaged;
                index.DamageMessage = message;
            }

            return index;
        }
        catch (ArgumentOutOfRangeException)
        {
            problem = "index runs past its end";
            return null;
        }
    }
}
