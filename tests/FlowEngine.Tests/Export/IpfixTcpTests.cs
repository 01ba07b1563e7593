// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using FlowEngine.Capture;
using FlowEngine.Export;
using FlowEngine.Flows;

namespace FlowEngine.Tests.Export;

/// <summary>IPFIX over TCP to a collector played by the test (nfcapd 1.7.1 listens on UDP only).</summary>
public class IpfixTcpTests
{
    private const string Capture = "zeek/testing/btest/Traces/ftp/ipv6.pcap";
    private const string ManyFlows = "stopddos-packet-captures/pkt.TCP.synflood.spoofed.pcap";

    [Fact]
    public async Task Tcp_TemplatesOnceFirst_ThenEveryRecordInOrder()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<byte[]> received = ReadToEndAsync(listener);
        var options = new IpfixExporterOptions { MaxMessageBytes = 700, MaxStringBytes = 64 };
        (List<FlowRecord> records, _, IpfixExporterStatistics stats) =
            IpfixTestRun.Export(IpfixTestRun.Capture(ManyFlows), $"tcp://127.0.0.1:{Port(listener)}", options);
        byte[] bytes = await received.WaitAsync(TimeSpan.FromSeconds(20));

        var decoder = new IpfixDecoder();
        decoder.DecodeStream(bytes);
        Assert.Equal(1, decoder.TemplateOnlyMessages);
        Assert.Equal(1, stats.TemplatesSent);
        Assert.Equal(records.Count, decoder.Records.Count);
        Assert.Equal(records.Count, stats.RecordsSent);
        Assert.Equal(bytes.Length, stats.BytesSent);
        Assert.True(stats.MessagesSent > 2, $"{stats}");
        for (int i = 0; i < records.Count; i++)
        {
            IpfixExporterTests.AssertSameFlow(records[i], decoder.Records[i], reverse: false, biflow: true);
        }
    }

    [Fact]
    public async Task Tcp_CollectorUpLate_BufferedRecordsArriveOnceItListens()
    {
        // A bound socket that does not listen refuses connections until Listen.
        using var collector = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        collector.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)collector.LocalEndPoint!).Port;
        List<FlowRecord> records = Records();
        var options = new IpfixExporterOptions { ReconnectDelay = TimeSpan.FromMilliseconds(20) };
        using IpfixExporter exporter = IpfixExporter.Create($"tcp://127.0.0.1:{port}", options);
        exporter.OnFlows(records.ToArray());
        exporter.Flush();
        WaitFor(() => exporter.Statistics.ConnectionErrors > 0, "a refused connection");

        collector.Listen();
        Task<byte[]> received = ReadToEndAsync(collector);
        exporter.Complete();
        byte[] bytes = await received.WaitAsync(TimeSpan.FromSeconds(20));
        var decoder = new IpfixDecoder();
        decoder.DecodeStream(bytes);
        Assert.Equal(records.Count, decoder.Records.Count);
        Assert.Equal(0, exporter.Statistics.RecordsDropped);
        Assert.Equal(0, exporter.Statistics.Reconnects);
    }

    [Fact]
    public async Task Tcp_ConnectionReset_ReconnectsResendsTemplatesLosesNothing()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        List<FlowRecord> records = Records();
        int half = records.Count / 2;
        var options = new IpfixExporterOptions { MaxMessageBytes = 700, MaxStringBytes = 64, ReconnectDelay = TimeSpan.FromMilliseconds(20) };
        using IpfixExporter exporter = IpfixExporter.Create($"tcp://127.0.0.1:{Port(listener)}", options);

        // First connection: the first half, read in full, then a reset from the collector.
        Task<Socket> firstAccept = listener.AcceptSocketAsync();
        exporter.OnFlows(records.ToArray().AsSpan(0, half));
        exporter.Flush();
        Socket accepted = await firstAccept.WaitAsync(TimeSpan.FromSeconds(10));
        WaitFor(() => exporter.Statistics.RecordsSent == half, "the first half written");
        byte[] first = new byte[exporter.Statistics.BytesSent];
        using (Socket connection = accepted)
        {
            connection.ReceiveTimeout = 10_000;
            for (int got = 0; got < first.Length;)
            {
                got += connection.Receive(first, got, first.Length - got, SocketFlags.None);
            }

            connection.LingerState = new LingerOption(true, 0);
        }

        // Second connection: the exporter finds the reset on its next write, reconnects and starts with the templates.
        Task<byte[]> second = ReadToEndAsync(listener);
        exporter.OnFlows(records.ToArray().AsSpan(half));
        exporter.Complete();
        byte[] secondBytes = await second.WaitAsync(TimeSpan.FromSeconds(20));

        var one = new IpfixDecoder();
        one.DecodeStream(first);
        var two = new IpfixDecoder();
        two.DecodeStream(secondBytes);
        Assert.Equal(half, one.Records.Count);
        Assert.Equal(records.Count - half, two.Records.Count);
        Assert.Equal(1, one.TemplateOnlyMessages);
        Assert.Equal(1, two.TemplateOnlyMessages);
        Assert.Equal((uint)half, two.Records[0].MessageSequence);
        IpfixExporterStatistics stats = exporter.Statistics;
        Assert.Equal(1, stats.Reconnects);
        Assert.Equal(2, stats.TemplatesSent);
        Assert.Equal(0, stats.RecordsDropped);
        Assert.Equal(records.Count, stats.RecordsSent);
        for (int i = 0; i < records.Count; i++)
        {
            IpfixExporterTests.AssertSameFlow(records[i], i < half ? one.Records[i] : two.Records[i - half], reverse: false, biflow: true);
        }
    }

    internal static List<FlowRecord> Records(string relative = Capture)
    {
        var records = new List<FlowRecord>();
        using var pipeline = new FlowPipeline(FlowSink.ToList(records));
        using CaptureFileReader reader = CaptureFile.Open(IpfixTestRun.Capture(relative));
        pipeline.Run(reader);
        return records;
    }

    internal static int Port(TcpListener listener) => ((IPEndPoint)listener.LocalEndpoint).Port;

    internal static async Task<byte[]> ReadToEndAsync(TcpListener listener)
    {
        using Socket connection = await listener.AcceptSocketAsync().ConfigureAwait(false);
        return await ReadAllAsync(connection).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadToEndAsync(Socket listening)
    {
        using Socket connection = await listening.AcceptAsync().ConfigureAwait(false);
        return await ReadAllAsync(connection).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadAllAsync(Socket connection)
    {
        using var stream = new NetworkStream(connection);
        using var all = new MemoryStream();
        await stream.CopyToAsync(all).ConfigureAwait(false);
        return all.ToArray();
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        long deadline = Environment.TickCount64 + 10_000;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, $"timed out waiting for {what}");
            Thread.Yield();
        }
    }
}
