// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.IO.Compression;
using FlowEngine.Capture;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Capture;

/// <summary>A packet as written by a test, or as read back (frame copied out of the batch).</summary>
internal sealed record TestPacket(byte[] Data, int WireLength, long TimestampNs, LinkType LinkType, int Interface)
{
    public bool SameAs(TestPacket other) =>
        Data.AsSpan().SequenceEqual(other.Data) && WireLength == other.WireLength && TimestampNs == other.TimestampNs
        && LinkType == other.LinkType && Interface == other.Interface;

    public override string ToString() => $"len={Data.Length} wire={WireLength} ts={TimestampNs} link={LinkType} if={Interface}";
}

/// <summary>Temporary files, the shared corpus, and reading a whole capture.</summary>
internal static class CaptureTestFiles
{
    private static readonly Lazy<string> s_tempDirectory = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "flowengine-capture-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        return dir;
    });

    private static int s_counter;

    /// <summary>Writes <paramref name="bytes"/> to a new temporary file.</summary>
    public static string Write(byte[] bytes, string extension = ".pcap")
    {
        string path = Path.Combine(s_tempDirectory.Value, $"t{Interlocked.Increment(ref s_counter)}{extension}");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    /// <summary>Reads every packet, copying the frames; exceptions propagate after the packets read so far are kept in <paramref name="packets"/>.</summary>
    public static void ReadInto(CaptureFileReader reader, List<TestPacket> packets, int batchCapacity = 256)
    {
        var batch = new PacketBatch(batchCapacity);
        int batches = 0;
        while (reader.ReadBatch(batch))
        {
            Assert.True(batch.Count > 0 || batches == 0, "a capture file returned true with an empty batch");
            Assert.True(++batches < 10_000_000, "reader does not end");
            for (int i = 0; i < batch.Count; i++)
            {
                packets.Add(new TestPacket(batch.GetFrame(i).ToArray(), batch.GetWireLength(i), batch.GetTimestampNs(i), batch.GetLinkType(i), batch.GetInterface(i)));
            }
        }

        Assert.Equal(0, batch.Count);
    }

    public static List<TestPacket> ReadAll(string path, int batchCapacity = 256, CaptureFileOptions? options = null)
    {
        using CaptureFileReader reader = CaptureFile.Open(path, options);
        var packets = new List<TestPacket>();
        ReadInto(reader, packets, batchCapacity);
        return packets;
    }

    public static void AssertSamePackets(IReadOnlyList<TestPacket> expected, IReadOnlyList<TestPacket> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].SameAs(actual[i]), $"packet {i}: expected {expected[i]}, read {actual[i]}");
        }
    }

    /// <summary>The shared corpus (see <see cref="Shared.Corpora"/>).</summary>
    public static string CorporaDirectory() => Shared.Corpora.Directory();

    /// <summary>Rows of MANIFEST.tsv with kind == capture: path (absolute), file type, link type name, packet count.</summary>
    public static List<(string Path, string FileType, string LinkType, int Packets)> CorpusCaptures()
    {
        string root = CorporaDirectory();
        string[] lines = File.ReadAllLines(Path.Combine(root, "MANIFEST.tsv"));
        string[] header = lines[0].Split('\t');
        int pathColumn = Array.IndexOf(header, "local_path");
        int kindColumn = Array.IndexOf(header, "kind");
        int typeColumn = Array.IndexOf(header, "file_type");
        int linkColumn = Array.IndexOf(header, "link_type");
        int packetsColumn = Array.IndexOf(header, "packets");
        Assert.True(pathColumn >= 0 && kindColumn >= 0 && typeColumn >= 0 && linkColumn >= 0 && packetsColumn >= 0, "MANIFEST.tsv lacks a needed column");
        var rows = new List<(string, string, string, int)>();
        foreach (string line in lines.Skip(1))
        {
            string[] cells = line.Split('\t');
            if (cells.Length > packetsColumn && cells[kindColumn] == "capture")
            {
                rows.Add((Path.Combine(root, cells[pathColumn]), cells[typeColumn], cells[linkColumn], int.Parse(cells[packetsColumn], System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        return rows;
    }
}
