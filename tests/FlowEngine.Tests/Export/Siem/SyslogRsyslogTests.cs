// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Detection;
using FlowEngine.Export.Siem;

namespace FlowEngine.Tests.Export.Siem;

/// <summary>
/// CEF over RFC 5424 syslog into a real rsyslogd (Debian's, started by the test with a private config on loopback
/// ports): every message arrives once over UDP and over octet-counted TCP, rsyslog's RFC 5424 parser finds the header
/// fields and the structured data, and the CEF line parses back to the alert's values, hostile text included.
/// </summary>
public class SyslogRsyslogTests
{
    private const int AlertsPerTransport = 60;

    [Fact]
    public async Task Rsyslog_ReceivesEveryAlert_OverUdpAndTcp_WithTheRfc5424FieldsAndTheCefValues()
    {
        using RsyslogReceiver rsyslog = RsyslogReceiver.Start();
        var options = new SiemExportOptions { ObserverName = "hv-test-1" };
        List<Alert> alerts = SiemAlerts.Mixed(AlertsPerTransport);
        var ids = alerts.Select(a => AlertFormat.EventId(in a)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());

        AlertSinkStatistics udpStats, tcpStats;
        await using (SyslogAlertSink udp = SyslogAlertSink.Create($"udp://127.0.0.1:{rsyslog.UdpPort}", options))
        await using (SyslogAlertSink tcp = SyslogAlertSink.Create($"tcp://127.0.0.1:{rsyslog.TcpPort}", options))
        {
            Assert.Equal(SyslogTransport.Udp, udp.Transport);
            Assert.Equal(SyslogTransport.Tcp, tcp.Transport);
            for (int i = 0; i < alerts.Count; i++)
            {
                Alert a = alerts[i];
                udp.OnAlert(in a);
                tcp.OnAlert(in a);

                // Paced: a loopback burst can outrun rsyslog's UDP socket buffer, and UDP loss is not what this checks.
                if (i % 10 == 9)
                {
                    await Task.Delay(20);
                }
            }

            Assert.True(await udp.CompleteAsync(TimeSpan.FromSeconds(10)));
            Assert.True(await tcp.CompleteAsync(TimeSpan.FromSeconds(10)));
            udpStats = udp.Statistics;
            tcpStats = tcp.Statistics;
        }

        Assert.Equal(new AlertSinkStatistics(AlertsPerTransport, AlertsPerTransport, 0, 0, 0), udpStats);
        Assert.Equal(new AlertSinkStatistics(AlertsPerTransport, AlertsPerTransport, 0, 0, 0), tcpStats);

        string[] lines = rsyslog.WaitForLines(2 * AlertsPerTransport, TimeSpan.FromSeconds(20));
        Assert.Equal(2 * AlertsPerTransport, lines.Length);
        foreach (string input in new[] { "imudp", "imtcp" })
        {
            var received = new Dictionary<string, string[]>();
            foreach (string line in lines.Where(l => l.StartsWith(input + "\t", StringComparison.Ordinal)))
            {
                string[] f = line.Split('\t');
                Assert.Equal(8, f.Length);
                Assert.Equal("1", f[1]);
                Assert.Equal("hv-test-1", f[2]);
                Assert.Equal("flowengine", f[3]);
                Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), f[4]);
                string id = f[6].Split("id=\"")[1][..16];
                Assert.True(received.TryAdd(id, f), $"{input}: {id} twice");
            }

            Assert.Equal(AlertsPerTransport, received.Count);
            for (int i = 0; i < alerts.Count; i++)
            {
                Alert a = alerts[i];
                string[] f = received[ids[i]];
                Assert.Equal(AlertFormat.ClassName(a.Class), f[5]);
                Assert.StartsWith($"[{SyslogMessage.SdId} id=\"{ids[i]}\" class=\"{AlertFormat.ClassName(a.Class)}\"", f[6], StringComparison.Ordinal);
                string msg = f[7].TrimStart('\uFEFF', ' ');
                Assert.StartsWith("CEF:0|FlowEngine|FlowEngine Sensor|", msg, StringComparison.Ordinal);
                (string[] header, Dictionary<string, string> ext) = SiemAlerts.ParseCef(msg);
                Assert.Equal("flowengine." + AlertFormat.ClassName(a.Class), header[4]);
                Assert.Equal(ids[i], ext["externalId"]);
                Assert.Equal(a.Flow.DestinationPort.ToString(CultureInfo.InvariantCulture), ext["dpt"]);
                Assert.Equal(a.Flow.Source.ToString(a.Flow.IpVersion), ext[a.Flow.IpVersion == 4 ? "src" : "c6a2"]);
                if (a.Vm is string vm)
                {
                    // The VM name, CR, LF, pipes, '=', backslashes and non-ASCII included, comes back whole (cut to 1024 chars).
                    Assert.Equal(SiemAlerts.AsCefValue(vm), ext["cs1"]);
                }
            }
        }
    }

    [Fact]
    public async Task Tcp_CollectorThatComesUpLate_GetsEveryQueuedAlert_AfterReconnects()
    {
        // Nothing listens on the port at first: the sink retries with backoff and delivers once rsyslog is there.
        using RsyslogReceiver first = RsyslogReceiver.Start();
        int port = first.TcpPort;
        first.Dispose();
        List<Alert> alerts = SiemAlerts.Mixed(10);
        await using SyslogAlertSink tcp = SyslogAlertSink.Create($"tcp://127.0.0.1:{port}");
        foreach (Alert a in alerts)
        {
            tcp.OnAlert(in a);
        }

        // Bounded wait (the machine may be loaded): at least two refused attempts, nothing sent.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (tcp.Statistics.Retries < 2 && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(50);
        }

        Assert.True(tcp.Statistics.Retries >= 2, $"{tcp.Statistics.Retries} reconnects while nothing listens");
        Assert.Equal(0, tcp.Statistics.Sent);
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        listener.Start();
        using System.Net.Sockets.TcpClient peer = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await tcp.CompleteAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(alerts.Count, tcp.Statistics.Sent);

        // Octet-counted frames, read back by their lengths.
        using var stream = peer.GetStream();
        var messages = new List<string>();
        using var reader = new BinaryReader(stream);
        for (int i = 0; i < alerts.Count; i++)
        {
            var digits = new List<byte>();
            for (byte b = reader.ReadByte(); b != (byte)' '; b = reader.ReadByte())
            {
                Assert.InRange(b, (byte)'0', (byte)'9');
                digits.Add(b);
            }

            int length = int.Parse(System.Text.Encoding.ASCII.GetString([.. digits]), CultureInfo.InvariantCulture);
            Assert.InRange(length, 1, 8192);
            messages.Add(System.Text.Encoding.UTF8.GetString(reader.ReadBytes(length)));
        }

        Assert.Equal(alerts.Select(a => AlertFormat.EventId(in a)), messages.Select(m => m.Split("id=\"")[1][..16]));
    }
}
