// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using FlowEngine.Capture;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Capture;

/// <summary>Real captures from shared/corpora, checked against MANIFEST.tsv and tshark.</summary>
public sealed class CaptureFileCorpusTests
{
    private const string Tshark = "/usr/bin/tshark";

    [Fact]
    public void Open_EveryCorpusCapture_BufferedReadsEqualTheMapping()
    {
        // The smallest block buffer, so windows move often and records straddle block ends.
        var buffered = new CaptureFileOptions { Access = CaptureFileAccess.Buffered, ReadBufferBytes = 4096 };
        var rows = CaptureTestFiles.CorpusCaptures();
        Assert.NotEmpty(rows);
        foreach ((string path, _, _, _) in rows)
        {
            List<TestPacket> mapped, read;
            CaptureFormatException? mappedError = null, readError = null;
            (mapped, mappedError) = ReadAllOrError(path, null);
            (read, readError) = ReadAllOrError(path, buffered);
            CaptureTestFiles.AssertSamePackets(mapped, read);
            Assert.True(mappedError?.Offset == readError?.Offset, $"{path}: {mappedError?.Message} / {readError?.Message}");
        }
    }

    [Fact]
    public void Open_EveryCorpusCapture_YieldsManifestPacketCountFormatAndLinkType()
    {
        var rows = CaptureTestFiles.CorpusCaptures();
        Assert.NotEmpty(rows);
        var failures = new List<string>();
        var batch = new PacketBatch();
        foreach ((string path, string fileType, string linkType, int expected) in rows)
        {
            try
            {
                using CaptureFileReader reader = CaptureFile.Open(path);
                int count = 0;
                while (reader.ReadBatch(batch))
                {
                    count += batch.Count;
                }

                string format = reader.Format == CaptureFileFormat.PcapNg ? "pcapng" : "pcap";
                if (count != expected || format != fileType)
                {
                    failures.Add($"{path}: {count} packets as {format}, manifest says {expected} as {fileType}");
                }

                if (ManifestLinkType(linkType) is { } link && reader.InterfaceLinkTypes.Count > 0 && reader.InterfaceLinkTypes[0] != link)
                {
                    failures.Add($"{path}: link type {reader.InterfaceLinkTypes[0]}, manifest says {linkType}");
                }
            }
            catch (CaptureFormatException e)
            {
                failures.Add(e.Message);
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static readonly string[] s_corpusFilesForTshark =
    [
        "zeek/testing/btest/Traces/quic/merlinc2_Zeek_example.pcapng",
        "ndpi/tests/cfgs/default/pcap/malware.pcap",
        "ndpi/tests/cfgs/default/pcap/dns2tcp_tunnel.pcap",
        "suricata-verify/tests/http-ipv6/input.pcap",
    ];

    /// <summary>
    /// Timestamps (to the microsecond), wire and captured lengths and interface ids of real files (pcapng, a
    /// pcapng named .pcap, Linux SLL, BSD loopback) and of generated ones (nanosecond big-endian pcap; pcapng with three
    /// interfaces with 10^-9, 2^-20 and 10^-3 second units) agree with tshark. The tshark runs are concurrent.
    /// </summary>
    [Fact]
    public async Task ReadBatch_CorpusAndGeneratedCaptures_MatchTsharkAsync()
    {
        var paths = s_corpusFilesForTshark.Select(p => Path.Combine(CaptureTestFiles.CorporaDirectory(), p)).ToList();
        paths.Add(CaptureTestFiles.Write(CaptureScenario.Pcap(nanosecond: true, bigEndian: true).Bytes));
        paths.Add(CaptureTestFiles.Write(GeneratedPcapNgForTshark(), ".pcapng"));
        await Task.WhenAll(paths.Select(path => AssertMatchesTsharkAsync(path, CaptureTestFiles.ReadAll(path))));
    }

    // One section (tshark numbers interfaces across sections) and no simple packet blocks (they have no timestamp).
    private static byte[] GeneratedPcapNgForTshark()
    {
        var random = new Random(5);
        var writer = new TestPcapNgWriter().Section(bigEndian: true)
            .Interface(LinkType.Ethernet, tsresol: 9)
            .Interface(LinkType.Raw, tsresol: 0x80 | 20, tsoffsetSeconds: 7)
            .Interface(LinkType.LinuxSll, tsresol: 3);
        for (int i = 0; i < 30; i++)
        {
            int iface = i % 3;
            ulong ticks = iface switch
            {
                0 => 1_700_000_000_000_000_000UL + (ulong)random.NextInt64(1_000_000_000_000),
                1 => (1_700_000_000UL << 20) + (ulong)random.Next(1 << 30),
                _ => 1_700_000_000_000UL + (ulong)random.Next(1_000_000),
            };
            byte[] data = CaptureScenario.RandomBytes(random, random.Next(20, 200));
            if (i % 5 == 4)
            {
                writer.Obsolete(iface, ticks, data, data.Length + 10);
            }
            else
            {
                writer.Enhanced(iface, ticks, data, data.Length + 10, withOption: i % 2 == 0);
            }
        }

        return writer.ToArray();
    }

    private static LinkType? ManifestLinkType(string name) => name switch
    {
        "ether" => LinkType.Ethernet,
        "null" => LinkType.Null,
        "linux-sll" => LinkType.LinuxSll,
        "rawip6" => LinkType.IPv6,
        "rawip" => LinkType.Raw,
        _ => null,
    };

    private static async Task AssertMatchesTsharkAsync(string path, List<TestPacket> packets)
    {
        List<string[]> rows = await RunTsharkAsync(path);
        Assert.Equal(rows.Count, packets.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            string[] row = rows[i];
            long tsharkNs = ParseEpochNs(row[0]);
            Assert.True(Math.Abs(tsharkNs - packets[i].TimestampNs) < 1000, $"{path} packet {i}: tshark time {row[0]}, read {packets[i].TimestampNs} ns");
            Assert.Equal(int.Parse(row[1], CultureInfo.InvariantCulture), packets[i].WireLength);
            Assert.Equal(int.Parse(row[2], CultureInfo.InvariantCulture), packets[i].Data.Length);
            int tsharkInterface = row.Length > 3 && row[3].Length > 0 ? int.Parse(row[3], CultureInfo.InvariantCulture) : 0;
            Assert.Equal(tsharkInterface, packets[i].Interface);
        }
    }

    private static async Task<List<string[]>> RunTsharkAsync(string path)
    {
        Assert.True(File.Exists(Tshark), $"{Tshark} not found: install it (apt-get install tshark) to run the tshark cross-checks");
        var start = new ProcessStartInfo(Tshark)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.interface_id" })
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task<string> error = process.StandardError.ReadToEndAsync(timeout.Token);
        string output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"tshark failed on {path}: {await error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t')).ToList();
    }

    private static long ParseEpochNs(string text)
    {
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        string seconds = dot < 0 ? text : text[..dot];
        string fraction = dot < 0 ? string.Empty : text[(dot + 1)..];
        fraction = fraction.Length >= 9 ? fraction[..9] : fraction.PadRight(9, '0');
        return (long.Parse(seconds, CultureInfo.InvariantCulture) * 1_000_000_000) + long.Parse(fraction, CultureInfo.InvariantCulture);
    }

    private static (List<TestPacket> Packets, CaptureFormatException? Error) ReadAllOrError(string path, CaptureFileOptions? options)
    {
        var packets = new List<TestPacket>();
        try
        {
            using CaptureFileReader reader = CaptureFile.Open(path, options);
            CaptureTestFiles.ReadInto(reader, packets, batchCapacity: 64);
            return (packets, null);
        }
        catch (CaptureFormatException e)
        {
            return (packets, e);
        }
    }
}
