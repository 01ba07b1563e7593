// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Text;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Export.Siem;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Export.Siem;

/// <summary>The ECS documents parsed back with System.Text.Json, the CEF lines parsed by the CEF escaping rules.</summary>
public class EcsAndCefFormatTests
{
    private static readonly HashSet<string> s_ecsFields = File.ReadAllLines(Path.Combine(Repository.Root(), "tests", "FlowEngine.Tests", "Export", "Siem", "ecs-fields.txt"))
        .Where(l => l.Length > 0 && l[0] != '#').ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void Ecs_EveryFieldIsAnEcsFieldOrUnderFlowengine_AndTheValuesRoundTrip()
    {
        var writer = new EcsAlertWriter(new SiemExportOptions { ObserverName = "hv1" });
        var buffer = new ArrayBufferWriter<byte>();
        List<Alert> alerts = SiemAlerts.Mixed(40);
        foreach (Alert a in alerts)
        {
            writer.Write(in a, buffer);
        }

        string[] lines = Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n');
        Assert.Equal(alerts.Count + 1, lines.Length);
        Assert.Equal(string.Empty, lines[^1]);
        var seen = new HashSet<string>();
        for (int i = 0; i < alerts.Count; i++)
        {
            Alert a = alerts[i];
            using JsonDocument doc = JsonDocument.Parse(lines[i]);
            JsonElement e = doc.RootElement;
            foreach (string name in Flatten(e, string.Empty))
            {
                seen.Add(name);
                Assert.True(s_ecsFields.Contains(name) || name.StartsWith("flowengine.", StringComparison.Ordinal), $"{name} is neither an ECS field nor under flowengine.*");
            }

            Assert.Equal("alert", e.GetProperty("event").GetProperty("kind").GetString());
            Assert.Equal(["intrusion_detection", "network"], e.GetProperty("event").GetProperty("category").EnumerateArray().Select(x => x.GetString()!).ToArray());
            Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(a.TimestampNs / 1000 * 10), e.GetProperty("@timestamp").GetDateTimeOffset());
            Assert.EndsWith("Z", e.GetProperty("@timestamp").GetString(), StringComparison.Ordinal);
            Assert.Equal(AlertFormat.ClassName(a.Class), e.GetProperty("rule").GetProperty("name").GetString());
            Assert.Equal(a.Flow.Source.ToString(a.Flow.IpVersion), e.GetProperty("source").GetProperty("ip").GetString());
            Assert.Equal(a.Flow.DestinationPort, e.GetProperty("destination").GetProperty("port").GetInt32());
            Assert.Equal("tcp", e.GetProperty("network").GetProperty("transport").GetString());
            Assert.Equal("6", e.GetProperty("network").GetProperty("iana_number").GetString());
            Assert.Equal(5001u, e.GetProperty("flowengine").GetProperty("network").GetProperty("vni").GetUInt32());
            Assert.Equal(a.Score, e.GetProperty("event").GetProperty("risk_score").GetDouble());
            Assert.Equal(a.Count, e.GetProperty("flowengine").GetProperty("alert").GetProperty("count").GetInt32());
            Assert.Equal(AlertFormat.EventId(in a), e.GetProperty("event").GetProperty("id").GetString());
            if (a.Vm is string vm)
            {
                string expected = vm.Length <= 1024 ? vm : vm[..1024];
                Assert.Equal(expected, e.GetProperty("host").GetProperty("name").GetString());
            }
            else
            {
                Assert.False(e.TryGetProperty("host", out _));
            }

            Assert.Equal(a.TargetName, e.GetProperty("flowengine").GetProperty("alert").TryGetProperty("target_name", out JsonElement tn) ? tn.GetString() : null);
            var evidence = e.GetProperty("flowengine").GetProperty("alert").GetProperty("evidence").EnumerateArray().ToList();
            Assert.Equal(2, evidence.Count);
            Assert.False(evidence[1].TryGetProperty("threshold", out _), "NaN threshold left out");
        }

        // The ECS names the mapping promises (docs/siem.md) all appear.
        foreach (string name in new[] { "@timestamp", "event.kind", "event.category", "event.type", "event.start", "event.end", "event.severity", "event.risk_score", "rule.name", "source.ip", "source.port", "destination.ip", "destination.port", "network.transport", "network.iana_number", "host.name", "observer.name", "related.ip", "threat.tactic.name" })
        {
            Assert.Contains(name, seen);
        }
    }

    [Fact]
    public void Cef_HostileText_IsEscapedAndParsesBack_AndNoLineHoldsACarriageReturnOrNewline()
    {
        var cef = new CefFormatter(new SiemExportOptions { ObserverName = "hv|1\\x", Product = "Flow|Engine\\Sensor\nX" });
        foreach (Alert a in SiemAlerts.Mixed(40))
        {
            string line = cef.Format(in a);
            Assert.DoesNotContain('\n', line);
            Assert.DoesNotContain('\r', line);
            (string[] header, Dictionary<string, string> ext) = SiemAlerts.ParseCef(line);
            Assert.Equal(["CEF:0", "FlowEngine", "Flow|Engine\\Sensor X"], header[..3]);
            Assert.Equal("flowengine." + AlertFormat.ClassName(a.Class), header[4]);
            Assert.Equal(AlertFormat.Severity(in a).ToString(System.Globalization.CultureInfo.InvariantCulture), header[6]);
            Assert.Equal("hv|1\\x", ext["dvchost"]);
            Assert.Equal(a.Flow.IpVersion == 4 ? a.Flow.Source.ToString(4) : a.Flow.Source.ToString(6), ext[a.Flow.IpVersion == 4 ? "src" : "c6a2"]);
            Assert.Equal(a.Flow.SourcePort.ToString(System.Globalization.CultureInfo.InvariantCulture), ext["spt"]);
            Assert.Equal((a.TimestampNs / 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture), ext["rt"]);
            Assert.Equal(AlertFormat.EventId(in a), ext["externalId"]);
            if (a.Vm is string vm)
            {
                Assert.Equal(SiemAlerts.AsCefValue(vm), ext["cs1"]);
            }

            Assert.Contains("model.peer=x|y 0.99", ext["cs4"], StringComparison.Ordinal);
            Assert.Equal(a.TargetName, ext.GetValueOrDefault("cs5"));
        }
    }

    [Fact]
    public void Syslog_Rfc5424Header_StructuredDataEscaped_CutToTheBudgetOnAUtf8Boundary()
    {
        var messages = new SyslogMessage(new SiemExportOptions { ObserverName = "hyper visor\u00E9" }, facility: 4, maxBytes: 600);
        foreach (Alert a in SiemAlerts.Mixed(40))
        {
            byte[] m = messages.Format(in a);
            Assert.True(m.Length <= 600, $"{m.Length} bytes");
            string text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(m);
            Assert.DoesNotContain('\n', text);
            Assert.StartsWith($"<{(4 * 8) + AlertFormat.SyslogSeverity(AlertFormat.Severity(in a))}>1 ", text, StringComparison.Ordinal);
            string[] parts = text.Split(' ', 7);
            Assert.Equal("hyper_visor_", parts[2]);
            Assert.Equal("flowengine", parts[3]);
            Assert.Equal(AlertFormat.ClassName(a.Class), parts[5]);
            Assert.StartsWith($"[{SyslogMessage.SdId} id=\"{AlertFormat.EventId(in a)}\"", parts[6], StringComparison.Ordinal);
            int cef = text.IndexOf("CEF:0|", StringComparison.Ordinal);
            Assert.True(cef > 0);
            Assert.False(text.EndsWith('\\') && (text.Length - text.TrimEnd('\\').Length) % 2 == 1, "dangling escape");
        }
    }

    private static IEnumerable<string> Flatten(JsonElement e, string prefix)
    {
        foreach (JsonProperty p in e.EnumerateObject())
        {
            string name = prefix.Length == 0 ? p.Name : prefix + "." + p.Name;
            if (p.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (string n in Flatten(p.Value, name))
                {
                    yield return n;
                }
            }
            else
            {
                yield return name;
            }
        }
    }
}
