// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using FlowEngine.AppLayer;
using FlowEngine.Export;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Export;

public class IpfixExporterTests
{
    private const uint Pen = IpfixExporterOptions.DocumentationEnterpriseNumber;
    private const uint ReversePen = 29305;

    public static TheoryData<string, bool> Captures => new()
    {
        { "suricata-verify/tests/vxlan-decoder-03/vxlan.pcap", false },
        { "zeek/testing/btest/Traces/ftp/ipv6.pcap", false },
        { "zeek/testing/btest/Traces/tunnels/vxlan-encapsulated-http.pcap", true },
        { "nfstream/tests/pcaps/bad-dns-traffic.pcap", true },
        { "arkime/tests/pcap/openssl-tls1_2.pcap", true },
    };

    [Theory]
    [MemberData(nameof(Captures))]
    public void Udp_RoundTrip_EveryRecordDecodesToItsFlow(string relative, bool withMetadata)
    {
        using var collector = new UdpCollector();
        var options = new IpfixExporterOptions { MaxMessageBytes = 700, MaxStringBytes = 64, TemplateRefreshMessages = 3 };
        (List<FlowRecord> records, List<ExpectedMetadata> metadata, IpfixExporterStatistics stats) =
            IpfixTestRun.Export(IpfixTestRun.Capture(relative), collector.Uri, options, withMetadata);
        List<byte[]> datagrams = collector.Receive(stats.MessagesSent);

        var decoder = new IpfixDecoder();
        foreach (byte[] d in datagrams)
        {
            Assert.InRange(d.Length, 16, options.MaxMessageBytes);
            decoder.DecodeMessage(d);
        }

        Assert.NotEmpty(records);
        Assert.Equal(records.Count, decoder.Records.Count);
        Assert.Equal(records.Count, stats.RecordsSent);
        Assert.Equal(0, stats.RecordsDropped);
        Assert.Equal(datagrams.Sum(d => (long)d.Length), stats.BytesSent);
        Assert.Equal(decoder.TemplateOnlyMessages, stats.TemplatesSent);
        long dataMessages = stats.MessagesSent - stats.TemplatesSent;
        Assert.Equal((dataMessages + 2) / 3, stats.TemplatesSent);
        for (int i = 0; i < records.Count; i++)
        {
            AssertSameFlow(records[i], decoder.Records[i], reverse: false, biflow: true);
            if (withMetadata)
            {
                AssertSameMetadata(metadata[i], decoder.Records[i], options.MaxStringBytes);
            }
            else
            {
                Assert.False(decoder.Records[i].Has((ushort)IpfixEnterpriseElement.ApplicationProtocol, Pen));
            }
        }

        if (withMetadata)
        {
            Assert.Contains(metadata, m => m.App != AppProtocol.Unknown);
        }

        if (relative.Contains("vxlan", StringComparison.Ordinal))
        {
            Assert.Contains(decoder.Records, r => r.U(351) >> 56 == 1 && (r.U(351) & 0xFFFFFF) != 0);
        }
    }

    [Fact]
    public void Udp_Uniflow_ResponderDirectionIsARecordOfItsOwn()
    {
        using var collector = new UdpCollector();
        var options = new IpfixExporterOptions { Biflow = false };
        (List<FlowRecord> records, _, IpfixExporterStatistics stats) =
            IpfixTestRun.Export(IpfixTestRun.Capture("zeek/testing/btest/Traces/ftp/ipv6.pcap"), collector.Uri, options);
        var decoder = new IpfixDecoder();
        collector.Receive(stats.MessagesSent).ForEach(d => decoder.DecodeMessage(d));

        int next = 0;
        foreach (FlowRecord r in records)
        {
            IpfixDecodedRecord forward = decoder.Records[next++];
            AssertSameFlow(r, forward, reverse: false, biflow: false);
            Assert.False(forward.Has(1, ReversePen));
            if (r.ReversePackets != 0)
            {
                AssertSameFlow(r, decoder.Records[next++], reverse: true, biflow: false);
            }
        }

        Assert.Equal(next, decoder.Records.Count);
        Assert.True(next > records.Count, "the capture has answered flows");
    }

    [Fact]
    public void Udp_TemplateRefreshByTime_ResendsTemplatesWhenTheIntervalHasPassed()
    {
        using var collector = new UdpCollector();
        var clock = new ManualClock();
        var options = new IpfixExporterOptions { TemplateRefreshInterval = TimeSpan.FromSeconds(30), TemplateRefreshMessages = 0, TimeProvider = clock };
        var records = new List<FlowRecord>();
        using (var pipeline = new FlowPipeline(FlowSink.ToList(records)))
        using (FlowEngine.Capture.CaptureFileReader reader = FlowEngine.Capture.CaptureFile.Open(IpfixTestRun.Capture("zeek/testing/btest/Traces/ftp/ipv6.pcap")))
        {
            pipeline.Run(reader);
        }

        using IpfixExporter exporter = IpfixExporter.Create(collector.Uri, options);
        int[] advanceSeconds = [0, 10, 20, 5, 30, 1];
        foreach (int s in advanceSeconds)
        {
            clock.Advance(TimeSpan.FromSeconds(s));
            exporter.OnFlows(records.ToArray().AsSpan(0, 1));
            exporter.Flush();
        }

        exporter.Complete();
        IpfixExporterStatistics stats = exporter.Statistics;

        // Messages at 0, 10, 30, 35, 65 and 66 s: templates at 0, at 30 (30 s after them) and at 65 (35 s after).
        Assert.Equal(3, stats.TemplatesSent);
        var decoder = new IpfixDecoder();
        List<byte[]> datagrams = collector.Receive(stats.MessagesSent);
        datagrams.ForEach(d => decoder.DecodeMessage(d));
        Assert.Equal(3, decoder.TemplateOnlyMessages);
        Assert.Equal(6, decoder.Records.Count);
        Assert.Equal([0u, 1, 2, 3, 4, 5], decoder.Records.Select(r => r.MessageSequence));
        Assert.Equal((uint)clock.GetUtcNow().ToUnixTimeSeconds(), decoder.Records[^1].ExportTime);
    }

    [Fact]
    public void Metadata_LongStrings_AreTruncatedToMaxStringBytes()
    {
        using var collector = new UdpCollector();
        var options = new IpfixExporterOptions { MaxStringBytes = 8 };
        (List<FlowRecord> records, List<ExpectedMetadata> metadata, IpfixExporterStatistics stats) =
            IpfixTestRun.Export(IpfixTestRun.Capture("arkime/tests/pcap/openssl-tls1_2.pcap"), collector.Uri, options, withMetadata: true);
        var decoder = new IpfixDecoder();
        collector.Receive(stats.MessagesSent).ForEach(d => decoder.DecodeMessage(d));
        Assert.Equal(records.Count, decoder.Records.Count);
        Assert.Contains(metadata, m => m.Ja4.Length > 8);
        for (int i = 0; i < records.Count; i++)
        {
            AssertSameMetadata(metadata[i], decoder.Records[i], 8);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:4739")]
    [InlineData("udp://127.0.0.1")]
    [InlineData("tcp://127.0.0.1:0")]
    [InlineData("udp://127.0.0.1:70000")]
    [InlineData("udp://127.0.0.1:4739/path")]
    [InlineData("127.0.0.1:4739")]
    [InlineData("")]
    [InlineData("tcp://no-such-host.invalid:4739")]
    public void Create_BadCollector_ClearArgumentError(string collector)
    {
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() => IpfixExporter.Create(collector));
        Assert.Contains("IPFIX collector", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(600)]
    public void Create_MessageTooSmallForTheLargestRecord_Refused(int maxMessageBytes)
    {
        var options = new IpfixExporterOptions { MaxMessageBytes = maxMessageBytes };
        ArgumentOutOfRangeException e = Assert.Throws<ArgumentOutOfRangeException>(() => IpfixExporter.Create("udp://127.0.0.1:4739", options));
        Assert.Contains("too small", e.Message, StringComparison.Ordinal);

        // With short strings 600 bytes are enough; 100 never are (the templates alone take more).
        options.MaxStringBytes = 32;
        if (maxMessageBytes >= IpfixMessageWriter.MinimumMessageBytes(options))
        {
            IpfixExporter.Create("udp://127.0.0.1:4739", options).Dispose();
        }
        else
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => IpfixExporter.Create("udp://127.0.0.1:4739", options));
        }

        Assert.Equal(maxMessageBytes == 600, maxMessageBytes >= IpfixMessageWriter.MinimumMessageBytes(options));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(29305u)]
    public void Create_ReservedEnterpriseNumber_Refused(uint pen)
    {
        var options = new IpfixExporterOptions { EnterpriseNumber = pen };
        ArgumentOutOfRangeException e = Assert.Throws<ArgumentOutOfRangeException>(() => IpfixExporter.Create("udp://127.0.0.1:4739", options));
        Assert.Contains("reserved", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Udp_CollectorNotListening_DropsAreCountedNothingThrows()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var options = new IpfixExporterOptions { MaxMessageBytes = 700, MaxStringBytes = 64 };
        (List<FlowRecord> records, _, IpfixExporterStatistics stats) =
            IpfixTestRun.Export(IpfixTestRun.Capture("zeek/testing/btest/Traces/ftp/ipv6.pcap"), $"udp://127.0.0.1:{port}", options);

        // Loopback answers the first datagram with ICMP port unreachable, and later sends fail with it.
        Assert.True(stats.MessagesDropped > 0, $"{stats}");
        Assert.True(stats.RecordsDropped > 0, $"{stats}");
        Assert.Equal(records.Count, stats.RecordsSent + stats.RecordsDropped);
    }

    [Fact]
    public void Tcp_CollectorNeverUp_EveryRecordCountedAsDroppedWithinTheTimeout()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var options = new IpfixExporterOptions { ReconnectDelay = TimeSpan.FromMilliseconds(20), CompleteTimeout = TimeSpan.FromMilliseconds(300) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (List<FlowRecord> records, _, IpfixExporterStatistics stats) =
            IpfixTestRun.Export(IpfixTestRun.Capture("zeek/testing/btest/Traces/ftp/ipv6.pcap"), $"tcp://127.0.0.1:{port}", options);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"Complete took {clock.Elapsed}");
        Assert.Equal(0, stats.RecordsSent);
        Assert.Equal(records.Count, stats.RecordsDropped);
        Assert.True(stats.ConnectionErrors > 0);
    }

    [Fact]
    public void Tcp_TinyBuffer_OverflowIsCountedAsDropped()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        // Two message slots and a collector that is down: all but what fits is dropped at once, the rest at Complete.
        var options = new IpfixExporterOptions { MaxMessageBytes = 700, MaxStringBytes = 64, TcpBufferBytes = 1400, ReconnectDelay = TimeSpan.FromMilliseconds(20), CompleteTimeout = TimeSpan.Zero };
        (List<FlowRecord> records, _, IpfixExporterStatistics stats) =
            IpfixTestRun.Export(IpfixTestRun.Capture("stopddos-packet-captures/pkt.TCP.synflood.spoofed.pcap"), $"tcp://127.0.0.1:{port}", options);
        Assert.Equal(records.Count, stats.RecordsDropped);
        Assert.True(stats.MessagesDropped > 2, $"{stats}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OnFlows_SteadyState_AllocatesNothingPerRecord(bool biflow)
    {
        // A collector socket that never reads: datagrams are sent (and dropped by its full queue), with no ICMP error.
        using var collector = new UdpCollector();
        FlowRecord[] records = [.. IpfixTcpTests.Records("suricata-verify/tests/vxlan-decoder-03/vxlan.pcap")];
        using IpfixExporter exporter = IpfixExporter.Create(collector.Uri, new IpfixExporterOptions { Biflow = biflow });
        // Warm up for a second: tiered compilation replaces the methods in the first few hundred milliseconds.
        var warmUp = System.Diagnostics.Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 1000)
        {
            exporter.OnFlows(records);
        }

        exporter.Flush();
        long[] allocated = new long[3];
        for (int round = 0; round < allocated.Length; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                exporter.OnFlows(records);
            }

            exporter.Flush();
            allocated[round] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.True(allocated.All(a => a == 0), $"{string.Join(", ", allocated)} bytes allocated per round of {1000 * records.Length} records");
        Assert.True(exporter.Statistics.RecordsSent >= 3000 * records.Length, $"{exporter.Statistics}");
    }

    internal static void AssertSameFlow(in FlowRecord r, IpfixDecodedRecord d, bool reverse, bool biflow)
    {
        string at = $"flow {r.SourceAddress.ToString(r.IpVersion)}:{r.SourcePort} -> {r.DestinationAddress.ToString(r.IpVersion)}:{r.DestinationPort}";
        bool v6 = r.IpVersion == 6;
        IpAddress src = reverse ? r.DestinationAddress : r.SourceAddress, dst = reverse ? r.SourceAddress : r.DestinationAddress;
        Assert.Equal(src.ToIPAddress(r.IpVersion), new IPAddress(d.Bytes(v6 ? (ushort)27 : (ushort)8)));
        Assert.Equal(dst.ToIPAddress(r.IpVersion), new IPAddress(d.Bytes(v6 ? (ushort)28 : (ushort)12)));
        Assert.Equal(reverse ? r.DestinationPort : r.SourcePort, d.U(7));
        Assert.Equal(reverse ? r.SourcePort : r.DestinationPort, d.U(11));
        Assert.Equal(r.Protocol, d.U(4));
        Assert.Equal(r.IpVersion, d.U(60));
        Assert.Equal((ulong)(r.FirstNs / 1_000_000), d.U(152));
        Assert.Equal((ulong)(r.LastNs / 1_000_000), d.U(153));
        Assert.True((reverse ? r.ReverseBytes : r.ForwardBytes) == d.U(1), at);
        Assert.Equal(reverse ? r.ReversePackets : r.ForwardPackets, d.U(2));
        Assert.Equal((ulong)(reverse ? r.ReverseTcpFlags : r.ForwardTcpFlags), d.U(6));
        if (biflow)
        {
            Assert.Equal(r.ReverseBytes, d.U(1, ReversePen));
            Assert.Equal(r.ReversePackets, d.U(2, ReversePen));
            Assert.Equal((ulong)r.ReverseTcpFlags, d.U(6, ReversePen));
        }

        ulong endReason = r.EndReason switch
        {
            FlowEndReason.IdleTimeout => 1,
            FlowEndReason.ActiveTimeout => 2,
            FlowEndReason.TcpEnd or FlowEndReason.Reused => 3,
            FlowEndReason.EndOfInput => 4,
            _ => 5,
        };
        Assert.Equal(endReason, d.U(136));
        Assert.Equal(r.VlanId, d.U(58));
        Assert.Equal(r.VnKind == VirtualNetworkKind.Vxlan ? (1UL << 56) | r.VnId : 0, d.U(351));
        Assert.Equal((ulong)r.VnKind, d.U((ushort)IpfixEnterpriseElement.VirtualNetworkKind, Pen));
        Assert.Equal(r.VnId, d.U((ushort)IpfixEnterpriseElement.VirtualNetworkId, Pen));
    }

    private static void AssertSameMetadata(ExpectedMetadata m, IpfixDecodedRecord d, int maxString)
    {
        static string Cut(string s, int n) => s.Length <= n ? s : s[..n];
        Assert.Equal((ulong)m.App, d.U((ushort)IpfixEnterpriseElement.ApplicationProtocol, Pen));
        Assert.Equal(Cut(m.Dns, maxString), d.Text((ushort)IpfixEnterpriseElement.DnsQueryName, Pen));
        Assert.Equal(Cut(m.Host, maxString), d.Text((ushort)IpfixEnterpriseElement.HttpHost, Pen));
        Assert.Equal(Cut(m.Sni, maxString), d.Text((ushort)IpfixEnterpriseElement.TlsServerName, Pen));
        Assert.Equal(Cut(m.Ja3, maxString), d.Text((ushort)IpfixEnterpriseElement.Ja3, Pen));
        Assert.Equal(Cut(m.Ja4, maxString), d.Text((ushort)IpfixEnterpriseElement.Ja4, Pen));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;

        public override long GetTimestamp() => _now.UtcTicks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }
}
