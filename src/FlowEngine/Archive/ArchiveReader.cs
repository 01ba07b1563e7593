// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.AppLayer;
using FlowEngine.Packets;

namespace FlowEngine.Archive;

/// <summary>
/// Reads an archive directory: its segments in order, each through its index (or, for a segment still being written
/// or left unsealed, by walking its frame headers), frame by frame. Damage is reported in <see cref="Issues"/>, one
/// entry per damaged frame or header naming the file and offset, and everything readable around it is still read.
/// </summary>
public sealed class ArchiveReader
{
    private readonly List<ArchiveIssue> _issues = [];
    private readonly HashSet<(string, long)> _reported = [];
    private readonly List<SegmentIndex> _segments = [];

    /// <summary>Opens an archive directory and reads the segments' indexes (not their frames).</summary>
    /// <param name="directory">The archive directory.</param>
    /// <exception cref="DirectoryNotFoundException">No such directory.</exception>
    public ArchiveReader(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(Directory))
        {
            throw new DirectoryNotFoundException($"archive directory {Directory} does not exist");
        }

        foreach ((long sequence, string path) in ListSegments(Directory))
        {
            string indexPath = Path.Combine(Directory, ArchiveFormat.IndexName(sequence));
            SegmentIndex? index = null;
            if (File.Exists(indexPath))
            {
                index = SegmentIndex.TryRead(indexPath, path, sequence, out string? problem);
                if (index is null)
                {
                    Report(indexPath, 0, $"index unusable ({problem}); the segment is read by walking its frames");
                }
            }

            try
            {
                index ??= SegmentIndex.Scan(path, sequence);
            }
            catch (IOException e)
            {
                Report(path, 0, "cannot read: " + e.Message);
                continue;
            }

            if (index.HeaderProblem is null && index.FromIndexFile)
            {
                index.HeaderProblem = ReadHeaderProblem(path, sequence);
            }

            if (index.HeaderProblem is string headerProblem)
            {
                Report(path, 0, headerProblem + "; its frames are read on their own checksums");
            }

            if (index.DamagedOffset >= 0)
            {
                Report(path, index.DamagedOffset, index.DamageMessage ?? "damaged");
            }

            _segments.Add(index);
        }
    }

    /// <summary>The archive directory.</summary>
    public string Directory { get; }

    /// <summary>Damage found so far (opening finds torn tails and bad indexes; reading finds bad frames).</summary>
    public IReadOnlyList<ArchiveIssue> Issues => _issues;

    /// <summary>Called once for each new issue as it is found.</summary>
    public Action<ArchiveIssue>? IssueFound { get; set; }

    /// <summary>Segments found.</summary>
    public int SegmentCount => _segments.Count;

    /// <summary>Frames in all segments' indexes.</summary>
    public long FrameCount => _segments.Sum(s => (long)s.Frames.Count);

    /// <summary>Records in all segments' indexes.</summary>
    public long RecordCount => _segments.Sum(s => s.RecordCount);

    /// <summary>A cursor over the flows matching <paramref name="query"/>, in archive order (segment, then append order).</summary>
    /// <param name="query">The conditions; null for every flow.</param>
    /// <returns>The cursor (dispose it to close the file it holds).</returns>
    public ArchiveCursor OpenCursor(ArchiveQuery? query = null) => new(this, query ?? new ArchiveQuery());

    /// <summary>
    /// The flows matching <paramref name="query"/> with their context, streamed frame by frame, in the order they were
    /// appended (for a pipeline's sink: emission order, as the original sink saw them).
    /// </summary>
    /// <param name="query">The conditions; null for every flow.</param>
    /// <returns>The flows.</returns>
    public IEnumerable<ArchivedFlow> Read(ArchiveQuery? query = null)
    {
        using ArchiveCursor cursor = OpenCursor(query);
        while (cursor.MoveNext())
        {
            yield return cursor.Current;
        }
    }

    /// <summary>
    /// The flows matching <paramref name="query"/> in the order of their first packet (ties in archive order), merged
    /// from the frames by their first-packet ranges: a frame is read once the earliest flow waiting is not before
    /// its earliest first packet, so memory holds the frames whose time ranges overlap, not the archive.
    /// </summary>
    /// <param name="query">The conditions; null for every flow.</param>
    /// <returns>The flows.</returns>
    public IEnumerable<ArchivedFlow> ReadByFirstPacket(ArchiveQuery? query = null)
    {
        query ??= new ArchiveQuery();
        ulong vmHash = query.Vm is string vm ? ArchiveFormat.VmHash(System.Text.Encoding.UTF8.GetBytes(vm)) : 0;
        var plan = new List<(int Segment, FrameInfo Frame, int Ordinal)>();
        int ordinal = 0;
        for (int s = 0; s < _segments.Count; s++)
        {
            bool segmentMayMatch = SegmentMayMatch(_segments[s], query);
            foreach (FrameInfo f in _segments[s].Frames)
            {
                if (segmentMayMatch && FrameMayMatch(f, query, vmHash))
                {
                    plan.Add((s, f, ordinal));
                }

                ordinal++;
            }
        }

        plan.Sort((a, b) => a.Frame.MinFirstNs != b.Frame.MinFirstNs ? a.Frame.MinFirstNs.CompareTo(b.Frame.MinFirstNs) : a.Ordinal.CompareTo(b.Ordinal));
        using ArchiveCursor cursor = OpenCursor(query);
        var waiting = new PriorityQueue<ArchivedFlow, (long FirstNs, int Ordinal, int Index)>();
        int next = 0;
        while (true)
        {
            while (next < plan.Count && (!waiting.TryPeek(out _, out var head) || plan[next].Frame.MinFirstNs <= head.FirstNs))
            {
                (int segment, FrameInfo frame, int frameOrdinal) = plan[next++];
                if (cursor.LoadFrame(segment, frame))
                {
                    while (cursor.MoveNext())
                    {
                        ArchivedFlow f = cursor.Current;
                        waiting.Enqueue(f, (f.Record.FirstNs, frameOrdinal, f.IndexInFrame));
                    }
                }
            }

            if (!waiting.TryDequeue(out ArchivedFlow? flow, out _))
            {
                yield break;
            }

            yield return flow;
        }
    }

    internal IReadOnlyList<SegmentIndex> Segments => _segments;

    private static string? ReadHeaderProblem(string path, long sequence)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            Span<byte> header = stackalloc byte[ArchiveFormat.SegmentHeaderSize];
            int got = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            return SegmentIndex.CheckHeader(header[..got], sequence);
        }
        catch (IOException e)
        {
            return "cannot read: " + e.Message;
        }
    }

    internal void Report(string path, long offset, string message)
    {
        if (_reported.Add((path, offset)))
        {
            var issue = new ArchiveIssue(path, offset, message);
            _issues.Add(issue);
            IssueFound?.Invoke(issue);
        }
    }

    /// <summary>The segment files of a directory, by sequence.</summary>
    internal static List<(long Sequence, string Path)> ListSegments(string directory)
    {
        var list = new List<(long, string)>();
        foreach (string path in System.IO.Directory.EnumerateFiles(directory, "*" + ArchiveFormat.SegmentExtension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
            {
                list.Add((sequence, path));
            }
        }

        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    /// <summary>Whether a segment may hold a match (its time range, VM names and VNIs).</summary>
    internal static bool SegmentMayMatch(SegmentIndex s, ArchiveQuery q)
    {
        if (s.Frames.Count == 0)
        {
            return false;
        }

        if ((q.FromNs is long from && s.MaxLastNs < from) || (q.ToNs is long to && s.MinFirstNs > to))
        {
            return false;
        }

        if (q.Vm is string vm && s.VmNames is not null && !s.VmNames.Contains(vm))
        {
            return false;
        }

        return q.Vni is not uint vni || s.Vnis is null || s.Vnis.Contains(vni);
    }

    /// <summary>Whether a frame may hold a match (its time range, address range, app mask, alert count and bloom filter).</summary>
    internal static bool FrameMayMatch(FrameInfo f, ArchiveQuery q, ulong vmHash)
    {
        if ((q.FromNs is long from && f.MaxLastNs < from) || (q.ToNs is long to && f.MinFirstNs > to))
        {
            return false;
        }

        if (q.AlertsOnly && f.AlertCount == 0)
        {
            return false;
        }

        if (q.App is AppProtocol app && (f.AppMask & (1 << Math.Min((int)app, 15))) == 0)
        {
            return false;
        }

        ReadOnlySpan<byte> bloom = f.Bloom;
        if (q.Vm is not null && !ArchiveFormat.BloomMayContain(bloom, vmHash))
        {
            return false;
        }

        if (q.Vni is uint vni && !ArchiveFormat.BloomMayContain(bloom, ArchiveFormat.KeyHash(ArchiveFormat.KeyVni, vni)))
        {
            return false;
        }

        if (q.Port is ushort port && !ArchiveFormat.BloomMayContain(bloom, ArchiveFormat.KeyHash(ArchiveFormat.KeyPort, port)))
        {
            return false;
        }

        if (q.Protocol is byte protocol && !ArchiveFormat.BloomMayContain(bloom, ArchiveFormat.KeyHash(ArchiveFormat.KeyProtocol, protocol)))
        {
            return false;
        }

        if (q.Network is IpAddress network)
        {
            if (q.ExactAddress)
            {
                return ArchiveFormat.BloomMayContain(bloom, ArchiveFormat.AddressHash(in network, q.IpVersion));
            }

            if (q.IpVersion == 6)
            {
                return (f.Flags & FrameInfo.FlagIpv6) != 0;
            }

            (uint first, uint last) = q.V4Range();
            return (f.Flags & FrameInfo.FlagIpv4) != 0 && f.MaxV4 >= first && f.MinV4 <= last;
        }

        return true;
    }
}
