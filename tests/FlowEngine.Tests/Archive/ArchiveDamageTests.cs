// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Archive;
using FlowEngine.ArchiveHost;

namespace FlowEngine.Tests.Archive;

/// <summary>
/// Truncations and byte flips at random offsets of segment and index files, sealed (indexed) and unsealed (scanned):
/// each is reported with its file and the offset of the damaged frame, and every frame the damage did not touch is
/// still read, bit for bit.
/// </summary>
public sealed class ArchiveDamageTests : IDisposable
{
    private const int Records = 3000;
    private readonly string _pristine = ArchiveTestData.TempDirectory();
    private readonly List<string> _copies = [];

    public ArchiveDamageTests()
    {
        using var writer = new ArchiveWriter(_pristine, new ArchiveWriterOptions { RecordsPerFrame = 64, MaxSegmentBytes = 64 << 10 });
        for (int i = 0; i < Records; i++)
        {
            writer.Append(HostRecords.Record(i), HostRecords.Context(i));
        }
    }

    public void Dispose()
    {
        Directory.Delete(_pristine, recursive: true);
        foreach (string c in _copies)
        {
            Directory.Delete(c, recursive: true);
        }
    }

    public enum Damage
    {
        Truncate,
        Flip,
    }

    [Theory]
    [InlineData(Damage.Truncate, true, 1)]
    [InlineData(Damage.Truncate, false, 2)]
    [InlineData(Damage.Flip, true, 3)]
    [InlineData(Damage.Flip, false, 4)]
    public void SegmentDamage_ReportedWithFileAndOffset_RestReadBitExact(Damage damage, bool indexed, int seed)
    {
        var pristine = new ArchiveReader(_pristine);
        IReadOnlyList<SegmentIndex> segments = pristine.Segments;
        Assert.True(segments.Count >= 5, $"{segments.Count} segments");
        var random = new Random(seed);
        for (int round = 0; round < 25; round++)
        {
            int s = random.Next(segments.Count);
            SegmentIndex segment = segments[s];
            long length = new FileInfo(segment.Path).Length;

            // A third of the offsets in the first frame's neighbourhood (headers), the rest anywhere.
            long x = round % 3 == 0 ? random.NextInt64(0, Math.Min(length, ArchiveFormat.SegmentHeaderSize + ArchiveFormat.FrameHeaderSize + 8)) : random.NextInt64(0, length);
            string copy = Copy();
            string path = Path.Combine(copy, Path.GetFileName(segment.Path));
            if (!indexed)
            {
                File.Delete(Path.ChangeExtension(path, ArchiveFormat.IndexExtension));
            }

            Apply(damage, path, x, random);
            (HashSet<int> keptFrames, long? issueOffset) = Expect(damage, indexed, segment, x);
            string what = $"{damage} {(indexed ? "indexed" : "scanned")} segment {s} at {x} (round {round})";

            var reader = new ArchiveReader(copy);
            List<ArchivedFlow> flows = reader.Read().ToList();
            List<long> expected = ExpectedRecords(segments, s, keptFrames);
            AssertRecords(expected, flows, what);
            if (issueOffset is long offset)
            {
                Assert.True(reader.Issues.Any(i => i.Path == path && i.Offset == offset), $"{what}: no issue at {offset}; got {string.Join(" | ", reader.Issues)}");
            }
            else
            {
                Assert.True(reader.Issues.Count == 0, $"{what}: unexpected {string.Join(" | ", reader.Issues)}");
            }

            Assert.All(reader.Issues, i => Assert.Equal(path, i.Path));
            if (!indexed && round % 5 == 0)
            {
                // A writer opening the damaged archive indexes what is good, names the damage, and changes no byte.
                byte[] before = File.ReadAllBytes(path);
                using (var writer = new ArchiveWriter(copy))
                {
                    Assert.Equal(issueOffset is null ? 0 : 1, writer.RecoveryIssues.Count(i => i.Path == path && i.Offset == issueOffset));
                }

                Assert.Equal(before, File.ReadAllBytes(path));
                AssertRecords(expected, new ArchiveReader(copy).Read().ToList(), what + " after recovery");
            }
        }
    }

    [Fact]
    public void IndexDamage_ReportedAndSegmentReadByScanning()
    {
        var pristine = new ArchiveReader(_pristine);
        var random = new Random(5);
        for (int round = 0; round < 12; round++)
        {
            SegmentIndex segment = pristine.Segments[random.Next(pristine.Segments.Count)];
            string copy = Copy();
            string index = Path.Combine(copy, Path.GetFileName(Path.ChangeExtension(segment.Path, ArchiveFormat.IndexExtension)));
            long length = new FileInfo(index).Length;
            Apply(round % 2 == 0 ? Damage.Flip : Damage.Truncate, index, random.NextInt64(0, length), random);
            var reader = new ArchiveReader(copy);
            List<ArchivedFlow> flows = reader.Read().ToList();
            AssertRecords(Enumerable.Range(0, Records).Select(i => (long)i).ToList(), flows, $"index round {round}");
            ArchiveIssue issue = Assert.Single(reader.Issues);
            Assert.Equal((index, 0L), (issue.Path, issue.Offset));
        }
    }

    [Fact]
    public void GarbageFiles_NeverThrowAndAreReported()
    {
        var random = new Random(6);
        string copy = Copy();
        foreach (string f in Directory.GetFiles(copy, "*.fe?"))
        {
            File.Delete(f);
        }

        for (int i = 0; i < 4; i++)
        {
            byte[] junk = new byte[random.Next(0, 5000)];
            random.NextBytes(junk);
            File.WriteAllBytes(Path.Combine(copy, ArchiveFormat.SegmentName(i)), junk);
            if (i % 2 == 0)
            {
                File.WriteAllBytes(Path.Combine(copy, ArchiveFormat.IndexName(i)), junk);
            }
        }

        var reader = new ArchiveReader(copy);
        Assert.Empty(reader.Read());
        Assert.True(reader.Issues.Count >= 4, string.Join(" | ", reader.Issues));
        using var writer = new ArchiveWriter(copy);
        Assert.NotEmpty(writer.RecoveryIssues);
    }

    private string Copy()
    {
        string dir = ArchiveTestData.TempDirectory();
        _copies.Add(dir);
        ArchiveTestData.CopyDirectory(_pristine, dir);
        File.Delete(Path.Combine(dir, "writer.lock"));
        return dir;
    }

    private static void Apply(Damage damage, string path, long x, Random random)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        if (damage == Damage.Truncate)
        {
            file.SetLength(x);
            return;
        }

        file.Position = x;
        int b = file.ReadByte();
        file.Position = x;
        file.WriteByte((byte)(b ^ random.Next(1, 256)));
    }

    /// <summary>Which frames of the damaged segment survive, and where the issue must point (null: nothing can tell).</summary>
    private static (HashSet<int> Kept, long? Issue) Expect(Damage damage, bool indexed, SegmentIndex segment, long x)
    {
        var kept = new HashSet<int>();
        List<FrameInfo> frames = segment.Frames;
        int hit = frames.FindIndex(f => x >= f.Offset && x < f.End);
        if (damage == Damage.Truncate)
        {
            for (int f = 0; f < frames.Count; f++)
            {
                if (frames[f].End <= x && (indexed || x >= ArchiveFormat.SegmentHeaderSize))
                {
                    kept.Add(f);
                }
            }

            if (x < ArchiveFormat.SegmentHeaderSize)
            {
                return (kept, 0);
            }

            int first = frames.FindIndex(f => f.End > x);

            // Unindexed and cut exactly between frames, a segment looks like one whose writer stopped there.
            return (kept, !indexed && frames[first].Offset == x ? null : frames[first].Offset);
        }

        for (int f = 0; f < frames.Count; f++)
        {
            bool lost = f == hit || (!indexed && hit >= 0 && f > hit && x < frames[hit].Offset + ArchiveFormat.FrameHeaderSize);
            if (!lost)
            {
                kept.Add(f);
            }
        }

        return (kept, hit < 0 ? 0 : frames[hit].Offset);
    }

    private static List<long> ExpectedRecords(IReadOnlyList<SegmentIndex> segments, int damaged, HashSet<int> keptFrames)
    {
        var list = new List<long>();
        long next = 0;
        for (int s = 0; s < segments.Count; s++)
        {
            for (int f = 0; f < segments[s].Frames.Count; f++)
            {
                int count = segments[s].Frames[f].RecordCount;
                if (s != damaged || keptFrames.Contains(f))
                {
                    for (int i = 0; i < count; i++)
                    {
                        list.Add(next + i);
                    }
                }

                next += count;
            }
        }

        return list;
    }

    private static void AssertRecords(List<long> expected, List<ArchivedFlow> flows, string what)
    {
        Assert.True(expected.Count == flows.Count, $"{what}: {flows.Count} records, expected {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(ArchiveTestData.SameBits(HostRecords.Record(expected[i]), flows[i].Record), $"{what}: record {i} is not record {expected[i]}");
            Assert.Equal(HostRecords.Context(expected[i]).SourceVm, flows[i].SourceVm);
        }
    }
}
