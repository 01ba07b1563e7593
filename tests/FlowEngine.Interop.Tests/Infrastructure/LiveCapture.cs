// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using FlowEngine.Capture;
using FlowEngine.Flows;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>Downloads the lab's file with curl while a live source is read, and checks the flow against curl's byte counts.</summary>
internal static class LiveCapture
{
    /// <summary>Reads <paramref name="source"/> until curl has finished and the link has been quiet for 300 ms (at most 30 s).</summary>
    public static (List<FlowRecord> Flows, long RequestBytes, long ResponseBytes) Download(VethLab lab, IPacketSource source)
    {
        var records = new List<FlowRecord>();
        var pipeline = new FlowPipeline(FlowSink.ToList(records));
        var batch = new PacketBatch(32);
        using Process curl = lab.StartCurl();
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
        string output = curl.StandardOutput.ReadToEnd().Trim();
        Assert.True(curl.ExitCode == 0, $"curl failed ({curl.ExitCode}): {output} {curl.StandardError.ReadToEnd()}");
        long[] sizes = output.Split(' ').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(lab.FileBytes, sizes[2]);
        return (records, sizes[0], sizes[1] + sizes[2]);
    }

    /// <summary>
    /// The one HTTP flow carries exactly curl's request and at least the server's headers and body (payload bytes
    /// count TCP retransmissions), and closed normally.
    /// </summary>
    public static void AssertDownloadFlow(VethLab lab, List<FlowRecord> flows, long requestBytes, long responseBytes)
    {
        List<FlowRecord> http = flows.Where(f => f.Protocol == 6 && f.DestinationPort == 8080).ToList();
        Assert.True(http.Count == 1, $"{http.Count} flows to port 8080 among {flows.Count}: {string.Join("; ", flows.Select(f => FlowAssert.Describe(f)))}");
        FlowRecord f = http[0];
        Assert.Equal(lab.HostAddress, f.SourceAddress.ToString(4));
        Assert.Equal(lab.PeerAddress, f.DestinationAddress.ToString(4));
        Assert.Equal((ulong)requestBytes, f.ForwardPayloadBytes);
        Assert.True(f.ReversePayloadBytes >= (ulong)responseBytes, $"{f.ReversePayloadBytes} response bytes captured, {responseBytes} sent");
        Assert.Equal(ConnectionState.SF, f.State);
        // Every frame fits the 1500-byte MTU (offloads are off), so the body needs at least this many segments.
        Assert.True(f.ReversePackets >= responseBytes / 1460, $"{f.ReversePackets} server packets for {responseBytes} bytes");
        Assert.True(f.ReverseSizeMax <= 1500, $"a {f.ReverseSizeMax}-byte IP packet on a 1500-byte MTU link");
        Assert.True(f.LastNs >= f.FirstNs && f.FirstNs > 1_600_000_000L * 1_000_000_000, "timestamps are not wall-clock");
    }
}
