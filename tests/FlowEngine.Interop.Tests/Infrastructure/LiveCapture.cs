// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using FlowEngine.Capture;
using FlowEngine.Flows;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>What one download produced: the live source's flows, curl's byte counts, and the tcpdump oracle of the same interface.</summary>
internal sealed record LiveDownload(List<FlowRecord> Flows, long RequestBytes, long ResponseBytes, string OraclePcap, long OracleFrames);

/// <summary>
/// Downloads the lab's file with curl while a live source is read and tcpdump captures the same interface, and
/// checks the live flows against curl's byte counts, against tshark's reading of the tcpdump capture, and
/// against the file reader over that capture.
/// </summary>
internal static class LiveCapture
{
    // Packet times differ between two sockets (and DPDK stamps with the host clock at the burst).
    public static readonly string[] TimeFields =
    [
        nameof(FlowRecord.FirstNs), nameof(FlowRecord.LastNs),
        nameof(FlowRecord.ForwardIatMeanUs), nameof(FlowRecord.ForwardIatVarianceUs2), nameof(FlowRecord.ForwardIatMinUs), nameof(FlowRecord.ForwardIatMaxUs),
        nameof(FlowRecord.ReverseIatMeanUs), nameof(FlowRecord.ReverseIatVarianceUs2), nameof(FlowRecord.ReverseIatMinUs), nameof(FlowRecord.ReverseIatMaxUs),
    ];

    /// <summary>Reads <paramref name="source"/> until curl has finished and the link has been quiet for 300 ms (at most 30 s).</summary>
    public static LiveDownload Download(VethLab lab, IPacketSource source, int batchSize = 32, string? limitRate = null)
    {
        var records = new List<FlowRecord>();
        var pipeline = new FlowPipeline(FlowSink.ToList(records));
        var batch = new PacketBatch(batchSize);
        using var tcpdump = new TcpdumpCapture(lab.HostInterface);
        using Process curl = lab.StartCurl(limitRate);
        var clock = Stopwatch.StartNew();
        TimeSpan lastPacket = TimeSpan.Zero;
        while (true)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the download did not finish within 30 s");
            Assert.True(source.ReadBatch(batch), "a live source ended");
            if (batch.Count > 0)
            {
                pipeline.ProcessBatch(batch);
                lastPacket = clock.Elapsed;
            }
            else if (curl.HasExited && clock.Elapsed - lastPacket > TimeSpan.FromMilliseconds(300))
            {
                break;
            }
            else
            {
                Thread.Yield();
            }
        }

        pipeline.Flush();
        (long frames, long drops) = tcpdump.Stop();
        Assert.True(drops == 0, $"tcpdump's socket dropped {drops} frames");
        (long request, long response) = CurlSizes(curl, lab);
        return new LiveDownload(records, request, response, tcpdump.Path, frames);
    }

    /// <summary>curl's "request header+body" bytes and "response header+body" bytes.</summary>
    public static (long Request, long Response) CurlSizes(Process curl, VethLab lab)
    {
        Assert.True(curl.WaitForExit(30_000), "curl did not finish within 30 s");
        string output = curl.StandardOutput.ReadToEnd().Trim();
        Assert.True(curl.ExitCode == 0, $"curl failed ({curl.ExitCode}): {output} {curl.StandardError.ReadToEnd()}");
        long[] sizes = output.Split(' ').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(lab.FileBytes, sizes[2]);
        return (sizes[0], sizes[1] + sizes[2]);
    }

    /// <summary>
    /// The live flows equal the file reader's flows over tcpdump's capture of the same interface (every field but
    /// packet times); the one HTTP flow's packets and payload bytes per direction equal tshark's count of that
    /// capture; and without retransmissions (tshark's analysis) the payload is exactly curl's request and the
    /// server's headers and body.
    /// </summary>
    public static void AssertDownloadFlow(VethLab lab, LiveDownload live, IReadOnlyCollection<string>? alsoIgnored = null)
    {
        List<FlowRecord> http = live.Flows.Where(f => f.Protocol == 6 && f.DestinationPort == 8080).ToList();
        Assert.True(http.Count == 1, $"{http.Count} flows to port 8080 among {live.Flows.Count}: {string.Join("; ", live.Flows.Select(f => FlowAssert.Describe(f)))}");
        FlowRecord f = http[0];
        Assert.Equal(lab.HostAddress, f.SourceAddress.ToString(4));
        Assert.Equal(lab.PeerAddress, f.DestinationAddress.ToString(4));

        // tshark, independent of FlowEngine's decoder: frames and TCP payload per direction of the HTTP connection.
        TsharkCount t = TsharkCount.Of(live.OraclePcap, lab.HostAddress, lab.PeerAddress, 8080);
        string where = $"live {f.ForwardPackets}/{f.ReversePackets} packets, {f.ForwardPayloadBytes}/{f.ReversePayloadBytes} payload bytes; tshark {t.ForwardPackets}/{t.ReversePackets} packets, {t.ForwardPayload}/{t.ReversePayload} bytes, {t.Retransmissions} retransmissions; tcpdump {live.OracleFrames} frames; curl {live.RequestBytes}/{live.ResponseBytes}";
        Assert.True(t.ForwardPackets == f.ForwardPackets && t.ReversePackets == f.ReversePackets, "packet counts differ: " + where);
        Assert.True(t.ForwardPayload == (long)f.ForwardPayloadBytes && t.ReversePayload == (long)f.ReversePayloadBytes, "payload bytes differ: " + where);
        Assert.True(t.ForwardIpBytes == (long)f.ForwardBytes && t.ReverseIpBytes == (long)f.ReverseBytes, $"IP bytes differ: live {f.ForwardBytes}/{f.ReverseBytes}, tshark {t.ForwardIpBytes}/{t.ReverseIpBytes}");
        if (t.Retransmissions == 0)
        {
            Assert.True((ulong)live.RequestBytes == f.ForwardPayloadBytes && (ulong)live.ResponseBytes == f.ReversePayloadBytes, "payload is not what curl exchanged: " + where);
        }
        else
        {
            Assert.True(f.ForwardPayloadBytes >= (ulong)live.RequestBytes && f.ReversePayloadBytes >= (ulong)live.ResponseBytes, "payload is less than what curl exchanged: " + where);
        }

        Assert.Equal(ConnectionState.SF, f.State);
        Assert.True(f.ReverseSizeMax <= 1500, $"a {f.ReverseSizeMax}-byte IP packet on a 1500-byte MTU link (offloads are off)");
        Assert.True(f.LastNs >= f.FirstNs && f.FirstNs > 1_600_000_000L * 1_000_000_000, "timestamps are not wall-clock");

        // Every flow between the two lab addresses equals the file reader's over the oracle capture. Traffic the
        // kernel sends by itself when a link comes up (IGMP reports to 224.0.0.22) may fall before tcpdump starts or
        // after it stops, so only the lab's own unicast conversations are compared.
        string[] ignored = [.. TimeFields, .. alsoIgnored ?? []];
        var host = System.Net.IPAddress.Parse(lab.HostAddress);
        var peer = System.Net.IPAddress.Parse(lab.PeerAddress);
        bool Between(FlowRecord r)
        {
            var src = r.SourceAddress.ToIPAddress(r.IpVersion);
            var dst = r.DestinationAddress.ToIPAddress(r.IpVersion);
            return (src.Equals(host) && dst.Equals(peer)) || (src.Equals(peer) && dst.Equals(host));
        }

        FlowAssert.Equal(FlowAssert.FromFile(live.OraclePcap).Where(Between).ToList(), live.Flows.Where(Between).ToList(), "live source vs tcpdump of the same interface", ignored);
    }
}

/// <summary>tshark's count of one TCP connection in a capture.</summary>
internal sealed record TsharkCount(long ForwardPackets, long ReversePackets, long ForwardPayload, long ReversePayload, long ForwardIpBytes, long ReverseIpBytes, long Retransmissions)
{
    public static TsharkCount Of(string pcap, string client, string server, int port)
    {
        string text = ProcessRunner.Run("tshark", ["-r", pcap, "-n", "-Y", $"tcp.port == {port} && ip.addr == {server}", "-T", "fields", "-e", "ip.src", "-e", "ip.len", "-e", "tcp.len", "-e", "tcp.analysis.retransmission", "-e", "tcp.analysis.fast_retransmission", "-E", "separator=/t"], TimeSpan.FromSeconds(60));
        long fp = 0, rp = 0, fb = 0, rb = 0, fi = 0, ri = 0, re = 0;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] c = line.Split('\t');
            if (c.Length < 3 || !long.TryParse(c[2], CultureInfo.InvariantCulture, out long payload))
            {
                continue;
            }

            long ip = long.Parse(c[1], CultureInfo.InvariantCulture);
            if (c[0] == client)
            {
                fp++;
                fb += payload;
                fi += ip;
            }
            else
            {
                rp++;
                rb += payload;
                ri += ip;
            }

            if (c.Length > 3 && c.Skip(3).Any(s => s.Length > 0))
            {
                re++;
            }
        }

        return new TsharkCount(fp, rp, fb, rb, fi, ri, re);
    }
}
