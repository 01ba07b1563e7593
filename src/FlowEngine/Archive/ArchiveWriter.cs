// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Flows;
using FlowEngine.Packets;
using K4os.Compression.LZ4;

namespace FlowEngine.Archive;

/// <summary>
/// Appends flow records with their context to an archive directory: segment files of checksummed LZ4 frames, an index
/// per sealed segment, rotation by size and packet-time age, retention by total size and age (docs/archive.md).
/// As an <see cref="IFlowSink"/> it takes the context from the pipeline's metadata and VM tables.
/// </summary>
/// <remarks>
/// One thread writes (the sink's). A record is acknowledged once <see cref="Flush"/> (or <see cref="Complete"/>)
/// returns after it: its frame is then written and, with <see cref="ArchiveWriterOptions.Durable"/>, synced to the
/// device. Records appended since the last flush are in memory or in a frame the operating system holds; a crash may
/// lose them, and never anything acknowledged. The write path allocates nothing per record: frames are built in
/// buffers sized once (benchmark <c>ArchiveBenchmarks.Write</c>).
/// </remarks>
public sealed class ArchiveWriter : IFlowSink, IDisposable
{
    private readonly string _directory;
    private readonly ArchiveWriterOptions _options;
    private readonly AppMetadataTable? _metadata;
    private readonly VmIdentityTable? _vms;
    private readonly FileStream _lock;
    private readonly int _recordSize = ArchiveFormat.RecordSize;
    private readonly List<(long Sequence, long Bytes, long MaxLastNs)> _sealed = [];
    private readonly List<ArchiveIssue> _recoveryIssues = [];

    // The frame being filled.
    private readonly byte[] _records;
    private byte[] _context;
    private int _contextLength;
    private int _count;
    private readonly Dictionary<string, int> _strings;
    private readonly List<string> _stringList;
    private readonly List<bool> _stringInBloom;
    private readonly ulong[] _bloom = new ulong[ArchiveFormat.BloomWords];
    private byte[] _nameScratch = new byte[256];
    private long _minFirst, _maxFirst, _minLast, _maxLast;
    private uint _minV4, _maxV4;
    private ushort _appMask, _frameFlags;
    private int _alerts;
    private uint _lastVni = uint.MaxValue;
    private byte _lastProtocol;
    private bool _haveProtocol;

    // Frame encoding buffers.
    private byte[] _raw;
    private byte[] _frame;

    // The open segment.
    private FileStream? _segment;
    private bool _segmentHasIndexSets;
    private readonly HashSet<string> _segmentVms = new(StringComparer.Ordinal);
    private readonly HashSet<uint> _segmentVnis = [];
    private SegmentSummary _summary;
    private byte[] _indexBuffer = [];

    // The open segment's frame headers, (offset, header) each, in one growing buffer: no object per frame.
    private byte[] _frameHeaders = new byte[64 * (8 + ArchiveFormat.FrameHeaderSize)];
    private int _frameHeadersLength;
    private long _sequence;
    private long _segmentLength;
    private long _segmentFirstNs = long.MaxValue;
    private long _newestLastNs = long.MinValue;
    private int _frameSequence;
    private int _framesSinceCommit;
    private bool _disposed;

    /// <summary>Opens (or creates) an archive directory for appending. Segments a crashed writer left unsealed are indexed first.</summary>
    /// <param name="directory">The archive directory.</param>
    /// <param name="options">Frame, rotation and retention settings.</param>
    /// <param name="metadata">As a sink: the application metadata table of the pipeline, or null.</param>
    /// <param name="vms">As a sink: the VM identity table of the pipeline, or null.</param>
    /// <exception cref="IOException">Another writer holds the archive, or the directory cannot be used.</exception>
    public ArchiveWriter(string directory, ArchiveWriterOptions? options = null, AppMetadataTable? metadata = null, VmIdentityTable? vms = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _options = options ?? new ArchiveWriterOptions();
        _options.Validate();
        _directory = Path.GetFullPath(directory);
        _metadata = metadata;
        _vms = vms;
        System.IO.Directory.CreateDirectory(_directory);
        try
        {
            _lock = new FileStream(Path.Combine(_directory, "writer.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
        }
        catch (IOException e)
        {
            throw new IOException($"archive {_directory} is open in another writer: {e.Message}", e);
        }

        int frameRecords = _options.RecordsPerFrame;
        _records = GC.AllocateUninitializedArray<byte>(frameRecords * _recordSize);
        // Sized for the worst frame (three strings and the largest context per record), so appending never grows them.
        _context = new byte[frameRecords * ContextCodec.MaxBytes];
        _raw = new byte[(frameRecords * _recordSize) + _context.Length + (64 << 10)];
        _strings = new Dictionary<string, int>(frameRecords * 3, StringComparer.Ordinal);
        _stringList = new List<string>(frameRecords * 3);
        _stringInBloom = new List<bool>(frameRecords * 3);
        _frame = new byte[ArchiveFormat.FrameHeaderSize + LZ4Codec.MaximumOutputSize(_raw.Length)];
        ResetFrame();
        Recover();
    }

    /// <summary>Damage found in segments a previous writer left unsealed, when this writer opened the archive.</summary>
    public IReadOnlyList<ArchiveIssue> RecoveryIssues => _recoveryIssues;

    /// <summary>Records appended.</summary>
    public long RecordsWritten { get; private set; }

    /// <summary>Records acknowledged: written and synced by the last <see cref="Flush"/>.</summary>
    public long RecordsAcknowledged { get; private set; }

    /// <summary>Frames written.</summary>
    public long FramesWritten { get; private set; }

    /// <summary>Bytes written to segment files (headers, frames).</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Segments sealed (with their index written).</summary>
    public int SegmentsSealed { get; private set; }

    /// <summary>Segments deleted by retention.</summary>
    public int SegmentsDeleted { get; private set; }

    /// <summary>The archive directory.</summary>
    public string Directory => _directory;

    /// <summary>Test hook: called with the bytes of a frame written so far when half of it is on disk.</summary>
    internal Action<long>? FrameHalfWritten { get; set; }

    /// <inheritdoc/>
    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        for (int i = 0; i < records.Length; i++)
        {
            // Without a VM table the ends stay unknown (no gap of 0 from a default identity).
            FlowContext context = _vms is null ? new FlowContext() : FlowContext.From(_vms.ForRecord(i), default);
            if (_metadata is not null)
            {
                context.Metadata = _metadata.ForRecord(i);
            }

            Append(in records[i], in context);
        }
    }

    /// <summary>Appends one record without context.</summary>
    /// <param name="record">The record.</param>
    public void Append(in FlowRecord record) => Append(in record, default);

    /// <summary>Appends one record with its context.</summary>
    /// <param name="record">The record, kept bit for bit.</param>
    /// <param name="context">Its VMs, tenant, metadata, score and alert.</param>
    public void Append(in FlowRecord record, in FlowContext context)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_segmentFirstNs != long.MaxValue && record.LastNs - _segmentFirstNs >= _options.MaxSegmentAge.Ticks * 100)
        {
            SealFrame();
            SealSegment();
        }

        MemoryMarshal.Write(_records.AsSpan(_count * _recordSize), in record);
        _count++;
        RecordsWritten++;
        _segmentFirstNs = Math.Min(_segmentFirstNs, record.FirstNs);
        _newestLastNs = Math.Max(_newestLastNs, record.LastNs);
        Summarise(in record);
        WriteContext(in context);
        if (_count == _options.RecordsPerFrame)
        {
            SealFrame();
        }
    }

    /// <summary>Writes the frame being filled and syncs the segment: everything appended so far is acknowledged.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SealFrame();
        if (_segment is not null)
        {
            _segment.Flush(_options.Durable);
        }

        RecordsAcknowledged = RecordsWritten;
    }

    /// <summary>Flushes and seals the open segment (writes its index). Appending afterwards starts a new segment.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Flush();
        SealSegment();
    }

    /// <summary>Completes the archive and releases the directory.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            Complete();
        }
        finally
        {
            _disposed = true;
            _segment?.Dispose();
            _lock.Dispose();
        }
    }

    private void Summarise(in FlowRecord r)
    {
        _minFirst = Math.Min(_minFirst, r.FirstNs);
        _maxFirst = Math.Max(_maxFirst, r.FirstNs);
        _minLast = Math.Min(_minLast, r.LastNs);
        _maxLast = Math.Max(_maxLast, r.LastNs);
        Span<ulong> bloom = _bloom;
        if (r.VnKind != VirtualNetworkKind.None && r.VnId != _lastVni)
        {
            _lastVni = r.VnId;
            ArchiveFormat.BloomAdd(bloom, ArchiveFormat.KeyHash(ArchiveFormat.KeyVni, r.VnId));
            if (_segmentHasIndexSets)
            {
                _segmentVnis.Add(r.VnId);
            }
        }

        if (!_haveProtocol || r.Protocol != _lastProtocol)
        {
            _haveProtocol = true;
            _lastProtocol = r.Protocol;
            ArchiveFormat.BloomAdd(bloom, ArchiveFormat.KeyHash(ArchiveFormat.KeyProtocol, r.Protocol));
        }

        ArchiveFormat.BloomAdd(bloom, ArchiveFormat.KeyHash(ArchiveFormat.KeyPort, r.SourcePort));
        ArchiveFormat.BloomAdd(bloom, ArchiveFormat.KeyHash(ArchiveFormat.KeyPort, r.DestinationPort));
        ArchiveFormat.BloomAdd(bloom, ArchiveFormat.AddressHash(in r.SourceAddress, r.IpVersion));
        ArchiveFormat.BloomAdd(bloom, ArchiveFormat.AddressHash(in r.DestinationAddress, r.IpVersion));
        if (r.IpVersion == 4)
        {
            _frameFlags |= FrameInfo.FlagIpv4;
            uint s = r.SourceAddress.V4HostOrder, d = r.DestinationAddress.V4HostOrder;
            _minV4 = Math.Min(_minV4, Math.Min(s, d));
            _maxV4 = Math.Max(_maxV4, Math.Max(s, d));
        }
        else
        {
            _frameFlags |= FrameInfo.FlagIpv6;
        }
    }

    private void WriteContext(in FlowContext c)
    {
        if (_context.Length - _contextLength < ContextCodec.MaxBytes)
        {
            Array.Resize(ref _context, _context.Length * 2);
        }

        Span<byte> b = _context.AsSpan(_contextLength);
        int n = 2;
        ushort flags = 0;
        if (c.SourceVm is string source)
        {
            flags |= ContextCodec.FlagSourceVm;
            n += ArchiveFormat.WriteVarint(b[n..], (uint)StringIndex(source, vm: true));
        }

        if (c.DestinationVm is string destination)
        {
            flags |= ContextCodec.FlagDestinationVm;
            n += ArchiveFormat.WriteVarint(b[n..], (uint)StringIndex(destination, vm: true));
        }

        if (c.Tenant is string tenant)
        {
            flags |= ContextCodec.FlagTenant;
            n += ArchiveFormat.WriteVarint(b[n..], (uint)StringIndex(tenant, vm: false));
        }

        if (c.SourceGapSeconds is float sourceGap)
        {
            flags |= ContextCodec.FlagSourceGap;
            BinaryPrimitives.WriteSingleLittleEndian(b[n..], sourceGap);
            n += 4;
        }

        if (c.DestinationGapSeconds is float destinationGap)
        {
            flags |= ContextCodec.FlagDestinationGap;
            BinaryPrimitives.WriteSingleLittleEndian(b[n..], destinationGap);
            n += 4;
        }

        flags |= c.SourceOutside ? ContextCodec.FlagSourceOutside : (byte)0;
        flags |= c.DestinationOutside ? ContextCodec.FlagDestinationOutside : (byte)0;
        if (c.Score is double score)
        {
            flags |= ContextCodec.FlagScore;
            BinaryPrimitives.WriteDoubleLittleEndian(b[n..], score);
            n += 8;
        }

        if (c.IsAlert)
        {
            flags |= ContextCodec.FlagAlert;
            _alerts++;
        }

        b[n++] = (byte)c.AlertClass;
        AppMetadata m = c.Metadata;
        if (m.App != AppProtocol.Unknown || m.HasDetails)
        {
            flags |= ContextCodec.FlagMetadata;
            n += ContextCodec.WriteMetadata(b[n..], m);
            _appMask |= (ushort)(1 << Math.Min((int)m.App, 15));
        }
        else
        {
            _appMask |= 1;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(b, flags);
        _contextLength += n;
    }

    private int StringIndex(string s, bool vm)
    {
        ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_strings, s, out bool exists);
        if (!exists)
        {
            slot = _stringList.Count;
            _stringList.Add(s);
            _stringInBloom.Add(false);
        }

        if (vm && !_stringInBloom[slot])
        {
            _stringInBloom[slot] = true;
            ArchiveFormat.BloomAdd(_bloom, ArchiveFormat.VmHash(Utf8(s)));
            if (_segmentHasIndexSets)
            {
                _segmentVms.Add(s);
            }
        }

        return slot;
    }

    private ReadOnlySpan<byte> Utf8(string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (_nameScratch.Length < max)
        {
            _nameScratch = new byte[Math.Max(max, _nameScratch.Length * 2)];
        }

        int n = Encoding.UTF8.GetBytes(s, _nameScratch);
        return _nameScratch.AsSpan(0, n);
    }

    private void ResetFrame()
    {
        _count = 0;
        _contextLength = 0;
        _strings.Clear();
        _stringList.Clear();
        _stringInBloom.Clear();
        Array.Clear(_bloom);
        _minFirst = long.MaxValue;
        _maxFirst = long.MinValue;
        _minLast = long.MaxValue;
        _maxLast = long.MinValue;
        _minV4 = uint.MaxValue;
        _maxV4 = 0;
        _appMask = 0;
        _frameFlags = 0;
        _alerts = 0;
        _lastVni = uint.MaxValue;
        _haveProtocol = false;
    }

    private void SealFrame()
    {
        if (_count == 0)
        {
            return;
        }

        OpenSegmentIfNeeded();

        // Raw frame: transposed records, string table, contexts.
        int recordBytes = _count * _recordSize;
        int stringBytes = 5;
        foreach (string s in _stringList)
        {
            stringBytes += 5 + Encoding.UTF8.GetMaxByteCount(s.Length);
        }

        int rawNeeded = recordBytes + stringBytes + _contextLength;
        if (_raw.Length < rawNeeded)
        {
            _raw = new byte[rawNeeded * 2];
            _frame = new byte[ArchiveFormat.FrameHeaderSize + LZ4Codec.MaximumOutputSize(_raw.Length)];
        }

        Span<byte> raw = _raw;
        FrameDecoder.Transpose(_records.AsSpan(0, recordBytes), raw, _count, _recordSize);
        int n = recordBytes;
        n += ArchiveFormat.WriteVarint(raw[n..], (uint)_stringList.Count);
        foreach (string s in _stringList)
        {
            ReadOnlySpan<byte> utf8 = Utf8(s);
            n += ArchiveFormat.WriteVarint(raw[n..], (uint)utf8.Length);
            utf8.CopyTo(raw[n..]);
            n += utf8.Length;
        }

        _context.AsSpan(0, _contextLength).CopyTo(raw[n..]);
        n += _contextLength;

        Span<byte> frame = _frame;
        int payload = LZ4Codec.Encode(raw[..n], frame[ArchiveFormat.FrameHeaderSize..], LZ4Level.L00_FAST);
        if (payload <= 0)
        {
            throw new InvalidOperationException("LZ4 could not compress a frame into its bound");
        }

        Span<byte> h = frame[..ArchiveFormat.FrameHeaderSize];
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h, ArchiveFormat.FrameMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], ArchiveFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], ArchiveFormat.FrameHeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], _count);
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], (ushort)_recordSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[14..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], n);
        BinaryPrimitives.WriteInt32LittleEndian(h[20..], payload);
        BinaryPrimitives.WriteInt32LittleEndian(h[24..], recordBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], ArchiveFormat.Crc32C(frame.Slice(ArchiveFormat.FrameHeaderSize, payload)));
        BinaryPrimitives.WriteInt64LittleEndian(h[32..], _minFirst);
        BinaryPrimitives.WriteInt64LittleEndian(h[40..], _maxFirst);
        BinaryPrimitives.WriteInt64LittleEndian(h[48..], _minLast);
        BinaryPrimitives.WriteInt64LittleEndian(h[56..], _maxLast);
        BinaryPrimitives.WriteUInt32LittleEndian(h[64..], _minV4);
        BinaryPrimitives.WriteUInt32LittleEndian(h[68..], _maxV4);
        BinaryPrimitives.WriteUInt16LittleEndian(h[72..], _appMask);
        BinaryPrimitives.WriteUInt16LittleEndian(h[74..], _frameFlags);
        BinaryPrimitives.WriteInt32LittleEndian(h[76..], _alerts);
        BinaryPrimitives.WriteInt32LittleEndian(h[80..], _frameSequence);
        MemoryMarshal.AsBytes(_bloom.AsSpan()).CopyTo(h[ArchiveFormat.BloomOffset..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[(ArchiveFormat.FrameHeaderSize - 4)..], ArchiveFormat.Crc32C(h[..(ArchiveFormat.FrameHeaderSize - 4)]));

        int total = ArchiveFormat.FrameHeaderSize + payload;
        long offset = _segmentLength;
        if (FrameHalfWritten is { } hook)
        {
            _segment!.Write(frame[..(total / 2)]);
            _segment.Flush(false);
            hook(total / 2);
            _segment.Write(frame[(total / 2)..total]);
        }
        else
        {
            _segment!.Write(frame[..total]);
        }

        _segmentLength += total;
        BytesWritten += total;
        FramesWritten++;
        _frameSequence++;
        const int Entry = 8 + ArchiveFormat.FrameHeaderSize;
        if (_frameHeaders.Length - _frameHeadersLength < Entry)
        {
            Array.Resize(ref _frameHeaders, _frameHeaders.Length * 2);
        }

        BinaryPrimitives.WriteInt64LittleEndian(_frameHeaders.AsSpan(_frameHeadersLength), offset);
        h.CopyTo(_frameHeaders.AsSpan(_frameHeadersLength + 8));
        _frameHeadersLength += Entry;
        _summary.FrameCount++;
        _summary.RecordCount += _count;
        _summary.MinFirstNs = Math.Min(_summary.MinFirstNs, _minFirst);
        _summary.MaxFirstNs = Math.Max(_summary.MaxFirstNs, _maxFirst);
        _summary.MinLastNs = Math.Min(_summary.MinLastNs, _minLast);
        _summary.MaxLastNs = Math.Max(_summary.MaxLastNs, _maxLast);
        ResetFrame();
        if (_options.CommitEveryFrames > 0 && ++_framesSinceCommit >= _options.CommitEveryFrames)
        {
            // Every record appended so far was in this frame or an earlier one: all are on disk once synced.
            _segment.Flush(_options.Durable);
            _framesSinceCommit = 0;
            RecordsAcknowledged = RecordsWritten;
        }

        if (_segmentLength >= _options.MaxSegmentBytes)
        {
            SealSegment();
        }
    }

    private void OpenSegmentIfNeeded()
    {
        if (_segment is not null)
        {
            return;
        }

        string path = Path.Combine(_directory, ArchiveFormat.SegmentName(_sequence));
        _segment = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, 1);
        Span<byte> header = stackalloc byte[ArchiveFormat.SegmentHeaderSize];
        ArchiveFormat.WriteSegmentHeader(header, _sequence, (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100);
        _segment.Write(header);
        _segmentLength = ArchiveFormat.SegmentHeaderSize;
        BytesWritten += ArchiveFormat.SegmentHeaderSize;
        _frameSequence = 0;
        _segmentVms.Clear();
        _segmentVnis.Clear();
        _segmentHasIndexSets = true;
        _summary = new SegmentSummary
        {
            Sequence = _sequence,
            MinFirstNs = long.MaxValue,
            MaxFirstNs = long.MinValue,
            MinLastNs = long.MaxValue,
            MaxLastNs = long.MinValue,
            DamagedOffset = -1,
        };

        // The frame being sealed was summarised before the segment existed: its names and VNIs go in now.
        for (int i = 0; i < _stringList.Count; i++)
        {
            if (_stringInBloom[i])
            {
                _segmentVms.Add(_stringList[i]);
            }
        }

        CollectFrameVnis(_segmentVnis);
    }

    private void CollectFrameVnis(HashSet<uint> into)
    {
        for (int i = 0; i < _count; i++)
        {
            ref FlowRecord r = ref Unsafe.As<byte, FlowRecord>(ref _records[i * _recordSize]);
            if (r.VnKind != VirtualNetworkKind.None)
            {
                into.Add(r.VnId);
            }
        }
    }

    private void SealSegment()
    {
        if (_segment is null)
        {
            return;
        }

        _segment.Flush(_options.Durable);
        _summary.FileLength = _segmentLength;
        _summary.ValidLength = _segmentLength;
        SegmentIndex.WriteFile(
            Path.Combine(_directory, ArchiveFormat.IndexName(_sequence)), in _summary, _frameHeaders.AsSpan(0, _frameHeadersLength),
            _segmentVnis, _segmentVms, null, _options.Durable, ref _indexBuffer);
        _frameHeadersLength = 0;
        _segment.Dispose();
        _segment = null;
        _segmentHasIndexSets = false;
        _sealed.Add((_sequence, _segmentLength, _summary.MaxLastNs));
        _sequence++;
        _segmentFirstNs = long.MaxValue;
        SegmentsSealed++;
        ApplyRetention();
    }

    private void ApplyRetention()
    {
        // Age first, wherever a segment sits (flows of different lengths end out of order), then size, oldest first.
        long ageNs = _options.RetentionAge.Ticks * 100;
        if (ageNs > 0 && _newestLastNs != long.MinValue)
        {
            for (int i = _sealed.Count - 1; i >= 0; i--)
            {
                if (_sealed[i].MaxLastNs < _newestLastNs - ageNs)
                {
                    Delete(i);
                }
            }
        }

        long total = 0;
        foreach ((long _, long bytes, long _) in _sealed)
        {
            total += bytes;
        }

        while (_sealed.Count > 0 && _options.MaxTotalBytes > 0 && total > _options.MaxTotalBytes)
        {
            total -= _sealed[0].Bytes;
            Delete(0);
        }
    }

    private void Delete(int sealedIndex)
    {
        long sequence = _sealed[sealedIndex].Sequence;

        // The index goes first: a segment without an index is one a reader scans, never a dangling index.
        File.Delete(Path.Combine(_directory, ArchiveFormat.IndexName(sequence)));
        File.Delete(Path.Combine(_directory, ArchiveFormat.SegmentName(sequence)));
        _sealed.RemoveAt(sealedIndex);
        SegmentsDeleted++;
    }

    private void Recover()
    {
        foreach (string stale in System.IO.Directory.EnumerateFiles(_directory, "*" + ArchiveFormat.IndexExtension + ".tmp"))
        {
            File.Delete(stale);
        }

        foreach ((long sequence, string path) in ArchiveReader.ListSegments(_directory))
        {
            string indexPath = Path.Combine(_directory, ArchiveFormat.IndexName(sequence));
            SegmentIndex? index = File.Exists(indexPath) ? SegmentIndex.TryRead(indexPath, path, sequence, out _) : null;
            if (index is null)
            {
                // Left open by a writer that stopped: index what is good, name the damage, and leave the bytes as they are.
                index = SegmentIndex.Scan(path, sequence);
                CollectNames(index);
                if (index.DamagedOffset >= 0)
                {
                    _recoveryIssues.Add(new ArchiveIssue(path, index.DamagedOffset, index.DamageMessage ?? "damaged"));
                }

                index.Write(indexPath, _options.Durable);
            }

            _sealed.Add((sequence, new FileInfo(path).Length, index.MaxLastNs));
            _newestLastNs = Math.Max(_newestLastNs, index.MaxLastNs);
            _sequence = Math.Max(_sequence, sequence + 1);
        }
    }

    // Reads every frame of a recovered segment once for its VM names and VNIs; a frame that fails is named (and again by readers).
    private void CollectNames(SegmentIndex index)
    {
        index.VmNames = new HashSet<string>(StringComparer.Ordinal);
        index.Vnis = [];
        var decoder = new FrameDecoder();
        using var file = new FileStream(index.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        for (int f = 0; f < index.Frames.Count; f++)
        {
            FrameInfo frame = index.Frames[f];
            if (decoder.Read(file, frame) is string problem)
            {
                _recoveryIssues.Add(new ArchiveIssue(index.Path, frame.Offset, problem));
                continue;
            }

            foreach (ref readonly FlowRecord r in decoder.Records)
            {
                if (r.VnKind != VirtualNetworkKind.None)
                {
                    index.Vnis.Add(r.VnId);
                }
            }

            try
            {
                var reader = new ContextReader(decoder.Raw, decoder.ContextStart);
                for (int i = 0; i < decoder.Records.Length; i++)
                {
                    ContextCodec.Read(ref reader, decoder.Strings.Length, out ContextFields c);
                    if (c.SourceVm >= 0)
                    {
                        index.VmNames.Add(decoder.Strings[c.SourceVm]);
                    }

                    if (c.DestinationVm >= 0)
                    {
                        index.VmNames.Add(decoder.Strings[c.DestinationVm]);
                    }
                }
            }
            catch (InvalidDataException e)
            {
                _recoveryIssues.Add(new ArchiveIssue(index.Path, frame.Offset, e.Message));
            }
        }
    }
}
