// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Sensor;

namespace FlowEngine.Tests.Export.Siem;

/// <summary>The sensor's reusable SIEM options: parsed on a command, built into one sink that reaches every target.</summary>
public class SensorAlertExportTests
{
    [Fact]
    public async Task Options_BuildOneSink_ThatWritesEcsAndSendsSyslog_AndBadValuesGiveAClearError()
    {
        var options = new AlertExportOptions();
        var command = new RootCommand("test");
        options.AddTo(command);
        string dir = Directory.CreateTempSubdirectory("fe-siem-cli-").FullName;
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        try
        {
            string ecs = Path.Combine(dir, "alerts.jsonl");
            ParseResult parse = command.Parse(["--alerts-ecs", ecs, "--syslog", $"udp://127.0.0.1:{port}", "--observer-name", "sensor-7"]);
            Assert.Empty(parse.Errors);
            List<Alert> alerts = SiemAlerts.Mixed(5);
            await using (AlertExport? export = options.TryBuild(parse, out string? error))
            {
                Assert.Null(error);
                Assert.NotNull(export);
                foreach (Alert a in alerts)
                {
                    export.OnAlert(in a);
                }

                Assert.True(await export.CompleteAsync(TimeSpan.FromSeconds(10)));
                string[] summary = [.. export.Summary()];
                Assert.Equal(2, summary.Length);
                Assert.All(summary, line => Assert.Contains("5 ", line, StringComparison.Ordinal));
            }

            string[] lines = File.ReadAllLines(ecs);
            Assert.Equal(5, lines.Length);
            Assert.All(lines, l => Assert.Equal("sensor-7", JsonDocument.Parse(l).RootElement.GetProperty("observer").GetProperty("name").GetString()));
            for (int i = 0; i < 5; i++)
            {
                UdpReceiveResult datagram = await udp.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
                Assert.Contains(" sensor-7 flowengine ", Encoding.UTF8.GetString(datagram.Buffer), StringComparison.Ordinal);
            }

            Assert.Null(options.TryBuild(command.Parse([]), out string? none));
            Assert.Null(none);
            foreach (string[] bad in new[] { new[] { "--syslog", "http://127.0.0.1:514" }, ["--syslog", "udp://127.0.0.1"], ["--webhook", "not a url"], ["--webhook", "ftp://x/"] })
            {
                Assert.Null(options.TryBuild(command.Parse(bad), out string? message));
                Assert.False(string.IsNullOrWhiteSpace(message), string.Join(' ', bad));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
