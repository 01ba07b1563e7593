// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text.Json;
using FlowEngine.Export;

namespace FlowEngine.Tests.Export;

/// <summary>The sensor's <c>flows --ipfix</c>: the same flows as the JSON output reach the collector, and a summary line says so.</summary>
public class SensorIpfixTests
{
    private const uint Pen = IpfixExporterOptions.DocumentationEnterpriseNumber;

    [Fact]
    public void Flows_IpfixUdp_CollectorGetsTheJsonOutputsFlows()
    {
        using var collector = new UdpCollector();
        string capture = IpfixTestRun.Capture("zeek/testing/btest/Traces/tunnels/vxlan-encapsulated-http.pcap");
        (int exit, string stdout, string stderr) = RunSensor("flows", capture, "--quiet", "--ipfix", collector.Uri);
        Assert.True(exit == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);

        string summary = stderr.Split('\n').Single(l => l.StartsWith("ipfix udp://", StringComparison.Ordinal));
        Assert.Contains($"{lines.Length} records", summary, StringComparison.Ordinal);
        Assert.Contains("0 messages (0 records) dropped", summary, StringComparison.Ordinal);
        int messages = int.Parse(summary.Split(": ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

        var decoder = new IpfixDecoder();
        collector.Receive(messages).ForEach(d => decoder.DecodeMessage(d));
        Assert.Equal(lines.Length, decoder.Records.Count);
        for (int i = 0; i < lines.Length; i++)
        {
            using JsonDocument doc = JsonDocument.Parse(lines[i]);
            JsonElement j = doc.RootElement;
            IpfixDecodedRecord r = decoder.Records[i];
            Assert.Equal(j.GetProperty("fwd_bytes").GetUInt64(), r.U(1));
            Assert.Equal(j.GetProperty("rev_bytes").GetUInt64(), r.U(1, 29305));
            Assert.Equal(j.GetProperty("src_port").GetUInt64(), r.U(7));
            Assert.Equal(j.GetProperty("vn_id").GetUInt64(), r.U((ushort)IpfixEnterpriseElement.VirtualNetworkId, Pen));
            if (j.TryGetProperty("http_host", out JsonElement host))
            {
                Assert.Equal(host.GetString(), r.Text((ushort)IpfixEnterpriseElement.HttpHost, Pen));
            }
        }

        Assert.Contains(lines, l => l.Contains("\"http_host\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("udp://127.0.0.1")]
    [InlineData("ftp://127.0.0.1:21")]
    public void Flows_BadIpfixCollector_ExitCode2WithAClearMessage(string collector)
    {
        (int exit, _, string stderr) = RunSensor("flows", "--ipfix", collector);
        Assert.Equal(2, exit);
        Assert.Contains("--ipfix", stderr, StringComparison.Ordinal);
        Assert.Contains("IPFIX collector", stderr, StringComparison.Ordinal);
    }

    private static (int Exit, string Stdout, string Stderr) RunSensor(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "FlowEngine.Sensor.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NO_COLOR"] = "1";
        using System.Diagnostics.Process p = System.Diagnostics.Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => stderr.AppendLine(e.Data);
        p.BeginErrorReadLine();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(true);
            Assert.Fail("sensor took over 60 s");
        }

        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.ToString());
    }
}
