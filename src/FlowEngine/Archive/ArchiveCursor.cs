// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Flows;

namespace FlowEngine.Archive;

/// <summary>
/// Steps through the flows of an archive that match a query, one frame in memory at a time; frames the index rules
/// out are never read. <see cref="Record"/> and the name properties read the frame in place; <see cref="Current"/>
/// builds an <see cref="ArchivedFlow"/>.
/// </summary>
public sealed class ArchiveCursor : IDisposable
{
    private readonly ArchiveReader _reader;
    private readonly ArchiveQuery _query;
    private readonly FrameDecoder _decoder = new();
    private readonly ulong _vmHash;
    private int _segment = -1;
    private int _frame;
    private int _record;
    private FileStream? _file;
    private FrameInfo? _currentFrame;
    private int _contextOffset;
    private ContextFields _fields;
    private int _vmIndex = -1;
    private bool _singleFrames;

    internal ArchiveCursor(ArchiveReader reader, ArchiveQuery query)
    {
        _reader = reader;
        _query = query;
        _vmHash = query.Vm is string vm ? ArchiveFormat.VmHash(Encoding.UTF8.GetBytes(vm)) : 0;
    }

    /// <summary>Frames read (decompressed) so far.</summary>
    public long FramesRead { get; private set; }

    /// <summary>Frames the index ruled out without reading them.</summary>
    public long FramesSkipped { get; private set; }

    /// <summary>The current record, bit for bit as appended.</summary>
    public ref readonly FlowRecord Record => ref _decoder.Records[_record];

    /// <summary>The current record's originator VM name, or null.</summary>
    public string? SourceVm => _fields.SourceVm >= 0 ? _decoder.Strings[_fields.SourceVm] : null;

    /// <summary>The current record's responder VM name, or null.</summary>
    public string? DestinationVm => _fields.DestinationVm >= 0 ? _decoder.Strings[_fields.DestinationVm] : null;

    /// <summary>The current record's tenant, or null.</summary>
    public string? Tenant => _fields.Tenant >= 0 ? _decoder.Strings[_fields.Tenant] : null;

    /// <summary>The current record's application.</summary>
    public AppProtocol App => _fields.App;

    /// <summary>True when the current record raised an alert.</summary>
    public bool IsAlert => _fields.IsAlert;

    /// <summary>The current flow with its whole context.</summary>
    public ArchivedFlow Current => new(in Record)
    {
        SourceVm = SourceVm,
        DestinationVm = DestinationVm,
        Tenant = Tenant,
        SourceOutside = (_fields.Flags & ContextCodec.FlagSourceOutside) != 0,
        DestinationOutside = (_fields.Flags & ContextCodec.FlagDestinationOutside) != 0,
        SourceGapSeconds = (_fields.Flags & ContextCodec.FlagSourceGap) != 0 ? _fields.SourceGap : null,
        DestinationGapSeconds = (_fields.Flags & ContextCodec.FlagDestinationGap) != 0 ? _fields.DestinationGap : null,
        Metadata = _fields.MetadataStart >= 0 ? ContextCodec.Materialize(_decoder.Raw, in _fields) : null,
        Score = (_fields.Flags & ContextCodec.FlagScore) != 0 ? _fields.Score : null,
        AlertClass = _fields.AlertClass,
        IsAlert = _fields.IsAlert,
        SegmentPath = _currentFrame is null ? string.Empty : _reader.Segments[_segment].Path,
        FrameOffset = _currentFrame?.Offset ?? 0,
        IndexInFrame = _record,
    };

    /// <summary>Moves to the next matching flow.</summary>
    /// <returns>False at the end of the archive.</returns>
    public bool MoveNext()
    {
        while (true)
        {
            if (_currentFrame is not null)
            {
                while (++_record < _decoder.Records.Length)
                {
                    if (!TryReadContext())
                    {
                        break;
                    }

                    if (Matches())
                    {
                        return true;
                    }
                }

                _currentFrame = null;
                if (_singleFrames)
                {
                    return false;
                }
            }

            if (_singleFrames || !NextFrame())
            {
                return false;
            }
        }
    }

    private bool TryReadContext()
    {
        try
        {
            var r = new ContextReader(_decoder.Raw, _contextOffset);
            ContextCodec.Read(ref r, _decoder.Strings.Length, out _fields);
            _contextOffset = r.Position;
            return true;
        }
        catch (InvalidDataException e)
        {
            _reader.Report(_reader.Segments[_segment].Path, _currentFrame!.Offset, $"record {_record}: {e.Message}; the rest of the frame is skipped");
            return false;
        }
    }

    private bool Matches()
    {
        ArchiveQuery q = _query;
        if (!q.MatchesRecord(in Record))
        {
            return false;
        }

        if (q.AlertsOnly && !_fields.IsAlert)
        {
            return false;
        }

        if (q.App is AppProtocol app && _fields.App != app)
        {
            return false;
        }

        return q.Vm is null || (_vmIndex >= 0 && (_fields.SourceVm == _vmIndex || _fields.DestinationVm == _vmIndex));
    }

    /// <summary>Makes the cursor step through this one frame (then <see cref="MoveNext"/> returns false until the next call).</summary>
    internal bool LoadFrame(int segment, FrameInfo frame)
    {
        _singleFrames = true;
        _currentFrame = null;
        SegmentIndex s = _reader.Segments[segment];
        if (segment != _segment || _file is null)
        {
            _file?.Dispose();
            _file = null;
            _segment = segment;
            try
            {
                _file = new FileStream(s.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.RandomAccess);
            }
            catch (IOException e)
            {
                _reader.Report(s.Path, 0, "cannot read: " + e.Message);
                return false;
            }
        }

        if (_decoder.Read(_file, frame) is string problem)
        {
            _reader.Report(s.Path, frame.Offset, problem);
            return false;
        }

        FramesRead++;
        _vmIndex = _query.Vm is string vm ? Array.IndexOf(_decoder.Strings, vm) : -1;
        if (_query.Vm is not null && _vmIndex < 0)
        {
            return false;
        }

        _currentFrame = frame;
        _record = -1;
        _contextOffset = _decoder.ContextStart;
        return true;
    }

    private bool NextFrame()
    {
        IReadOnlyList<SegmentIndex> segments = _reader.Segments;
        while (true)
        {
            if (_segment >= 0 && _segment < segments.Count)
            {
                SegmentIndex s = segments[_segment];
                while (_frame < s.Frames.Count)
                {
                    FrameInfo f = s.Frames[_frame++];
                    if (!ArchiveReader.FrameMayMatch(f, _query, _vmHash))
                    {
                        FramesSkipped++;
                        continue;
                    }

                    if (_decoder.Read(_file!, f) is string problem)
                    {
                        _reader.Report(s.Path, f.Offset, problem);
                        continue;
                    }

                    FramesRead++;
                    _vmIndex = _query.Vm is string vm ? Array.IndexOf(_decoder.Strings, vm) : -1;
                    if (_query.Vm is not null && _vmIndex < 0)
                    {
                        continue;
                    }

                    _currentFrame = f;
                    _record = -1;
                    _contextOffset = _decoder.ContextStart;
                    return true;
                }
            }

            _file?.Dispose();
            _file = null;
            if (++_segment >= segments.Count)
            {
                return false;
            }

            _frame = 0;
            SegmentIndex next = segments[_segment];
            if (!ArchiveReader.SegmentMayMatch(next, _query))
            {
                FramesSkipped += next.Frames.Count;
                _frame = next.Frames.Count;
                continue;
            }

            try
            {
                _file = new FileStream(next.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            }
            catch (IOException e)
            {
                _reader.Report(next.Path, 0, "cannot read: " + e.Message);
                _frame = next.Frames.Count;
            }
        }
    }

    /// <summary>Closes the segment file.</summary>
    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }
}
