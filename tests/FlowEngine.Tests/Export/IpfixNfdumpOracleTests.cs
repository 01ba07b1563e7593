// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FlowEngine.Export;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Export;

/// <summary>
/// The oracle: Debian's nfdump 1.7.1. The test starts nfcapd on a loopback UDP port, exports a capture's flows to it,
/// stops it with SIGTERM (it writes and closes its file), and reads the file back with <c>nfdump -r FILE -q -N -6 -o fmt:...</c>
/// (plain numbers, full IPv6 addresses). nfdump 1.7.1 shows no layer2SegmentId, so the VNI is checked by the decoder tests.
/// </summary>
public class IpfixNfdumpOracleTests
{
    private const string Format = "fmt:%ts|%te|%pr|%sa|%da|%sp|%dp|%flg|%ipkt|%ibyt|%opkt|%obyt";

    [Theory]
    [InlineData("suricata-verify/tests/vxlan-decoder-03/vxlan.pcap", true)]
    [InlineData("zeek/testing/btest/Traces/tunnels/vxlan-encapsulated-http.pcap", true)]
    [InlineData("zeek/testing/btest/Traces/ftp/ipv6.pcap", true)]
    [InlineData("zeek/testing/btest/Traces/ftp/ipv6.pcap", false)]
    public void Nfcapd_ReceivesTheExport_NfdumpShowsTheSameFlowsPacketsAndBytes(string relative, bool biflow)
    {
        string dir = Directory.CreateTempSubdirectory("flowengine-nfcapd-").FullName;
        try
        {
            int port = FreeUdpPort();
            List<FlowRecord> records;
            IpfixExporterStatistics stats;
            using (var nfcapd = new ExternalProcess("nfcapd", ["-w", dir, "-p", port.ToString(CultureInfo.InvariantCulture), "-b", "127.0.0.1", "-t", "3600"]))
            {
                nfcapd.WaitForOutput("Startup nfcapd.", TimeSpan.FromSeconds(10));
                var options = new IpfixExporterOptions { Biflow = biflow, MaxMessageBytes = 700, MaxStringBytes = 64 };
                (records, _, stats) = IpfixTestRun.Export(IpfixTestRun.Capture(relative), $"udp://127.0.0.1:{port}", options, withMetadata: true);
                Assert.Equal(0, stats.MessagesDropped);
                WaitUntilReceiveQueueEmpty(port, TimeSpan.FromSeconds(10));
                nfcapd.Signal("TERM");
                nfcapd.WaitForExit(TimeSpan.FromSeconds(20));
                Assert.Contains("Terminating nfcapd.", nfcapd.Output, StringComparison.Ordinal);
                Assert.Contains("Sequence Errors: 0", nfcapd.Output, StringComparison.Ordinal);
            }

            string[] files = Directory.GetFiles(dir, "nfcapd.2*");
            Assert.True(files.Length == 1, $"nfcapd left {string.Join(", ", Directory.GetFiles(dir))}");
            (int code, string output) = ExternalProcess.Run("nfdump", ["-r", files[0], "-q", "-N", "-6", "-o", Format], new Dictionary<string, string> { ["TZ"] = "UTC" });
            Assert.True(code == 0, $"nfdump failed ({code}): {output}");

            List<string> actual = [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => string.Join('|', line.Split('|').Select(f => f.Trim())))
                .Order(StringComparer.Ordinal)];
            List<string> expected = [.. records.SelectMany(r => Expected(r, biflow)).Order(StringComparer.Ordinal)];
            Assert.NotEmpty(expected);
            Assert.True(
                expected.SequenceEqual(actual),
                $"only expected:\n{string.Join('\n', expected.Except(actual))}\nonly from nfdump:\n{string.Join('\n', actual.Except(expected))}");
            Assert.Equal(stats.RecordsSent, expected.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // One nfdump line per record: biflow gives in and out counters in one line; uniflow a line per direction.
    private static IEnumerable<string> Expected(FlowRecord r, bool biflow)
    {
        yield return Line(r, reverse: false, biflow);
        if (!biflow && r.ReversePackets != 0)
        {
            yield return Line(r, reverse: true, biflow);
        }
    }

    private static string Line(in FlowRecord r, bool reverse, bool biflow)
    {
        static string Time(long ns) => DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        string protocol = r.Protocol.ToString(CultureInfo.InvariantCulture); // -N prints the number
        IpAddress src = reverse ? r.DestinationAddress : r.SourceAddress, dst = reverse ? r.SourceAddress : r.DestinationAddress;
        ushort sp = reverse ? r.DestinationPort : r.SourcePort, dp = reverse ? r.SourcePort : r.DestinationPort;
        TcpFlags flags = reverse ? r.ReverseTcpFlags : r.ForwardTcpFlags;
        ulong bytes = reverse ? r.ReverseBytes : r.ForwardBytes;
        uint packets = reverse ? r.ReversePackets : r.ForwardPackets;
        string outPackets = biflow ? r.ReversePackets.ToString(CultureInfo.InvariantCulture) : "0";
        string outBytes = biflow ? r.ReverseBytes.ToString(CultureInfo.InvariantCulture) : "0";
        return string.Join('|', Time(r.FirstNs), Time(r.LastNs), protocol, src.ToString(r.IpVersion), dst.ToString(r.IpVersion), sp, dp, FlagText(flags), packets, bytes, outPackets, outBytes);
    }

    // nfdump's flag column: CWR ECE URG ACK PSH RST SYN FIN, a dot where unset.
    private static string FlagText(TcpFlags flags)
    {
        const string letters = "CEUAPRSF";
        var text = new char[8];
        for (int i = 0; i < 8; i++)
        {
            text[i] = ((int)flags & (0x80 >> i)) != 0 ? letters[i] : '.';
        }

        return new string(text);
    }

    private static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    // Every datagram has left the kernel's queue of nfcapd's socket (the rx_queue column of /proc/net/udp).
    private static void WaitUntilReceiveQueueEmpty(int port, TimeSpan timeout)
    {
        string local = $"0100007F:{port:X4}";
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            string? row = File.ReadLines("/proc/net/udp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f[1] == local).Select(f => f[4]).FirstOrDefault();
            Assert.True(row is not null, $"no UDP socket bound to {local}");
            if (row.EndsWith(":00000000", StringComparison.Ordinal))
            {
                return;
            }

            Assert.True(Environment.TickCount64 < deadline, $"nfcapd's receive queue still holds {row} after {timeout}");
            Thread.Yield();
        }
    }
}
