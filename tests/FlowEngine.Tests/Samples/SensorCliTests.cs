// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Samples;

/// <summary>The sensor's command-line contract (README): JSON Lines on stdout, summary on stderr, exit codes.</summary>
public class SensorCliTests
{
    private static readonly string[] s_requiredFields =
    [
        "vn_type", "vn_id", "proto", "src_ip", "src_port", "dst_ip", "dst_port", "first_ts", "last_ts",
        "fwd_packets", "fwd_bytes", "rev_packets", "rev_bytes", "end_reason",
    ];

    private static readonly string[] s_vnTypes = ["none", "vlan", "vxlan", "geneve", "gre"];

    private static string DefaultCapture => Path.Combine(Repository.Root(), "samples", "data", "lab-small.pcapng");

    [Fact]
    public void Flows_DefaultCapture_WritesOneJsonObjectPerFlowWithContractFields()
    {
        (int exit, string stdout, string stderr) = RunSensor("flows");
        Assert.Equal(0, exit);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var records = new List<FlowRecord>();
        using (CaptureFileReader reader = CaptureFile.Open(DefaultCapture))
        {
            new FlowPipeline(FlowSink.ToList(records)).Run(reader);
        }

        Assert.Equal(records.Count, lines.Length);
        ulong bytes = 0;
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            foreach (string field in s_requiredFields)
            {
                Assert.True(doc.RootElement.TryGetProperty(field, out _), $"missing {field} in {line}");
            }

            Assert.Contains(doc.RootElement.GetProperty("vn_type").GetString(), s_vnTypes);
            Assert.Matches(@"^\d+\.\d{6}$", doc.RootElement.GetProperty("first_ts").GetRawText());
            bytes += doc.RootElement.GetProperty("fwd_bytes").GetUInt64() + doc.RootElement.GetProperty("rev_bytes").GetUInt64();
        }

        Assert.Equal(records.Aggregate(0ul, (sum, r) => sum + r.ForwardBytes + r.ReverseBytes), bytes);
        Assert.Contains("packets read", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Flows_OutFile_SameRecordsAsStdout()
    {
        string file = Path.Combine(Path.GetTempPath(), $"flowengine-sensor-{Guid.NewGuid():N}.jsonl");
        try
        {
            (int exit, string stdout, _) = RunSensor("flows", DefaultCapture, "--out", file, "--quiet");
            Assert.Equal(0, exit);
            Assert.Empty(stdout);
            (_, string direct, _) = RunSensor("flows", DefaultCapture, "--quiet");
            Assert.Equal(direct, File.ReadAllText(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Flows_TruncatedCapture_WritesFlowsBeforeDamageAndNamesFileAndOffset()
    {
        byte[] whole = File.ReadAllBytes(DefaultCapture);
        string file = Path.Combine(Path.GetTempPath(), $"flowengine-truncated-{Guid.NewGuid():N}.pcapng");
        try
        {
            File.WriteAllBytes(file, whole[..(whole.Length * 2 / 3)]);
            (int exit, string stdout, string stderr) = RunSensor("flows", file);
            Assert.Equal(1, exit);
            Assert.Contains(file, stderr, StringComparison.Ordinal);
            Assert.Contains("offset", stderr, StringComparison.Ordinal);
            Assert.NotEmpty(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Flows_BadConfiguration_ExitCode2()
    {
        (int exit, string stdout, string stderr) = RunSensor("flows", DefaultCapture, "--max-flows", "3");
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("MaxFlows", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Flows_Inventory_NamesVmsAndTenants_LearnedWithoutIt()
    {
        string inventory = Path.Combine(Repository.Root(), "samples", "data", "lab-small.inventory.csv");
        (int exit, string stdout, string stderr) = RunSensor("flows", DefaultCapture, "--inventory", inventory);
        Assert.Equal(0, exit);
        var names = File.ReadAllLines(inventory).Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        int named = 0;
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement r = doc.RootElement;
            foreach (string end in new[] { "src", "dst" })
            {
                if (r.TryGetProperty(end + "_vm", out JsonElement vm))
                {
                    Assert.Contains(vm.GetString()!, names);
                    Assert.False(r.TryGetProperty(end + "_outside", out _), line);
                    named++;
                }
            }

            if (r.GetProperty("dst_ip").GetString()!.StartsWith("203.0.113.", StringComparison.Ordinal))
            {
                Assert.True(r.GetProperty("dst_outside").GetBoolean(), line);
                Assert.Equal(r.GetProperty("vn_id").GetUInt32() == 5001 ? "acme" : "globex", r.GetProperty("tenant").GetString());
            }
        }

        Assert.True(named > 2000, $"{named} ends named");
        Assert.Contains("VMs in inventory", stderr, StringComparison.Ordinal);

        (exit, stdout, stderr) = RunSensor("flows", DefaultCapture);
        Assert.Equal(0, exit);
        Assert.Contains("\"src_vm\":\"vni:5001/10.0.0.41\"", stdout, StringComparison.Ordinal);
        Assert.Contains("VMs learned", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Flows_BadInventory_ExitCode2_NamesFileAndLine()
    {
        string file = Path.Combine(Path.GetTempPath(), $"flowengine-inventory-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(file, "name,tenant,vni,inner_ip,inner_mac,role,hypervisor\nweb,acme,5001,10.0.0.999,,web,hv1\n");
            (int exit, string stdout, string stderr) = RunSensor("flows", DefaultCapture, "--inventory", file);
            Assert.Equal(2, exit);
            Assert.Empty(stdout);
            Assert.Contains($"{file}:2", stderr.Replace("\n", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Profile_Json_AgreesWithTheFlowRecords_SnapshotsAndRefusesBadInput()
    {
        string inventory = Path.Combine(Repository.Root(), "samples", "data", "lab-small.inventory.csv");
        (int exit, string flows, _) = RunSensor("flows", DefaultCapture, "--inventory", inventory, "--quiet");
        Assert.Equal(0, exit);
        var records = flows.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        string dir = Directory.CreateTempSubdirectory("fe-profile-cli-").FullName;
        try
        {
            string snapshot = Path.Combine(dir, "profiles.bin");
            (exit, string stdout, string stderr) = RunSensor("profile", DefaultCapture, "--inventory", inventory, "--json", "--snapshot", snapshot);
            Assert.Equal(0, exit);
            Assert.DoesNotContain('\u001b', stdout);
            Assert.DoesNotContain('\u001b', stderr);
            var profiles = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("profile").GetString()!);
            Assert.Contains("vni:5001", profiles.Keys);
            Assert.Contains("vni:5002", profiles.Keys);
            foreach (string vm in new[] { "acme-ws1", "globex-db1", "acme-web1" })
            {
                Assert.Equal(records.Count(r => r.TryGetProperty("src_vm", out JsonElement v) && v.GetString() == vm), profiles[vm].GetProperty("flows_out").GetInt64());
                Assert.Equal(records.Count(r => r.TryGetProperty("dst_vm", out JsonElement v) && v.GetString() == vm), profiles[vm].GetProperty("flows_in").GetInt64());
            }

            Assert.Contains(profiles["globex-db1"].GetProperty("peers").EnumerateArray(), p => p.GetProperty("value").GetString() == "203.0.113.77");
            Assert.True(File.Exists(snapshot));

            // Restored and fed the same capture again: every count doubles.
            (exit, stdout, _) = RunSensor("profile", DefaultCapture, "--inventory", inventory, "--json", "--restore", snapshot, "--vm", "acme-ws1");
            Assert.Equal(0, exit);
            JsonElement twice = Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList());
            Assert.Equal(2 * profiles["acme-ws1"].GetProperty("flows_out").GetInt64(), twice.GetProperty("flows_out").GetInt64());

            // A damaged snapshot: a warning naming it, empty profiles, the run goes on.
            File.WriteAllBytes(snapshot, File.ReadAllBytes(snapshot)[..100]);
            (exit, stdout, stderr) = RunSensor("profile", DefaultCapture, "--inventory", inventory, "--json", "--restore", snapshot, "--vm", "acme-ws1");
            Assert.Equal(0, exit);
            Assert.Contains(snapshot, stderr.Replace("\n", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Equal(profiles["acme-ws1"].GetProperty("flows_out").GetInt64(), JsonDocument.Parse(stdout).RootElement[0].GetProperty("flows_out").GetInt64());

            (exit, _, stderr) = RunSensor("profile", DefaultCapture, "--vm", "no-such-vm");
            Assert.Equal(2, exit);
            Assert.Contains("no-such-vm", stderr, StringComparison.Ordinal);
            (exit, _, _) = RunSensor("profile", DefaultCapture, "--time-zone", "Mars/Olympus_Mons");
            Assert.Equal(2, exit);

            // Learned: VM profiles are named by network and address, and no outside peer keeps a VM profile.
            (exit, stdout, _) = RunSensor("profile", DefaultCapture, "--json");
            Assert.Equal(0, exit);
            var learned = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Select(p => p.GetProperty("profile").GetString()!).ToList();
            Assert.Contains("vni:5001/10.0.0.41", learned);
            Assert.DoesNotContain(learned, n => n.Contains("/203.0.113.", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TrainThenDetect_WritesAModel_AndScoresTheCaptureWithIt()
    {
        string inventory = Path.Combine(Repository.Root(), "samples", "data", "lab-small.inventory.csv");
        string dir = Directory.CreateTempSubdirectory("fe-model-cli-").FullName;
        try
        {
            string model = Path.Combine(dir, "lab.onnx");
            (int exit, _, string stderr) = RunSensor("train", DefaultCapture, "--inventory", inventory, "--out", model, "--epochs", "2", "--hidden", "8");
            Assert.Equal(0, exit);
            Assert.True(new FileInfo(model).Length > 1000);
            Assert.Contains("epoch 1/2", stderr, StringComparison.Ordinal);

            string scoresFile = Path.Combine(dir, "scores.jsonl");
            (exit, string stdout, stderr) = RunSensor("detect", DefaultCapture, "--inventory", inventory, "--model", model, "--scores", scoresFile, "--risk", "0.01");
            Assert.Equal(0, exit);
            string[] scored = File.ReadAllLines(scoresFile);
            Assert.True(scored.Length > 2000, $"{scored.Length} scored flows");
            int alertsInScores = 0;
            foreach (string line in scored)
            {
                JsonElement r = JsonDocument.Parse(line).RootElement;
                Assert.InRange(r.GetProperty("rank_dst").GetInt32(), 1, 64);
                Assert.InRange(r.GetProperty("p_dst").GetDouble(), 0, 1);
                Assert.InRange(r.GetProperty("rank_port").GetInt32(), 1, 40);
                double heads = r.EnumerateObject().Where(p => p.Name.StartsWith("nll_", StringComparison.Ordinal)).Sum(p => p.Value.GetDouble());
                Assert.InRange(heads - r.GetProperty("score").GetDouble(), -1e-3, 1e-3); // each rounded to 4 places
                alertsInScores += r.GetProperty("alert").GetBoolean() ? 1 : 0;
            }

            // Grouped by cause: the counts add up to the per-flow alerts of --each, in fewer alerts; every model
            // deviation is an alert (classified, or an anomaly).
            string[] alerts = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            (exit, string each, _) = RunSensor("detect", DefaultCapture, "--inventory", inventory, "--model", model, "--risk", "0.01", "--each");
            Assert.Equal(0, exit);
            string[] perFlow = each.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(perFlow.Length, alerts.Sum(l => JsonDocument.Parse(l).RootElement.GetProperty("count").GetInt32()));
            Assert.True(alerts.Length < perFlow.Length, $"{alerts.Length} alerts for {perFlow.Length} alerted flows");
            int modelAlertsInEach = perFlow.Count(l => JsonDocument.Parse(l).RootElement.TryGetProperty("model", out JsonElement m) && m.GetProperty("alert").GetBoolean());
            Assert.True(modelAlertsInEach >= alertsInScores / 2, $"{modelAlertsInEach} of {alertsInScores} deviating flows in alerts (a flow deviates from both ends)");
            string[] types = ["exfiltration", "c2", "malware", "dos", "scan", "dns_tunnel", "lateral_movement", "anomaly"];
            foreach (string line in alerts)
            {
                JsonElement r = JsonDocument.Parse(line).RootElement;
                Assert.True(r.GetProperty("last_ts").GetDouble() >= r.GetProperty("ts").GetDouble());
                string type = r.GetProperty("type").GetString()!;
                Assert.Contains(type, types);
                Assert.InRange(r.GetProperty("confidence").GetDouble(), 0.01, 1);
                Assert.NotEmpty(r.GetProperty("rules").EnumerateArray());
                if (type == "anomaly")
                {
                    JsonElement m = r.GetProperty("model");
                    Assert.True(m.GetProperty("alert").GetBoolean());
                    Assert.True(m.GetProperty("score").GetDouble() > m.GetProperty("threshold").GetDouble());
                    Assert.Equal(6, m.GetProperty("heads").EnumerateObject().Count());
                }

                Assert.True(r.TryGetProperty("ts", out _) && r.TryGetProperty("vn_type", out _) && r.TryGetProperty("src_ip", out _));
            }

            Assert.Contains("flows scored", stderr, StringComparison.Ordinal);
            File.WriteAllBytes(model, [1, 2, 3]);
            (exit, _, stderr) = RunSensor("detect", DefaultCapture, "--model", model);
            Assert.Equal(2, exit);
            Assert.Contains(model, stderr.Replace("\n", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Flows_VmState_JoinsEachVmsSamplesByPacketTime()
    {
        string inventory = Path.Combine(Repository.Root(), "samples", "data", "lab-small.inventory.csv");
        (int exit, string plain, _) = RunSensor("flows", DefaultCapture, "--inventory", inventory, "--quiet");
        Assert.Equal(0, exit);
        var flows = plain.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        long from = (long)Math.Floor(flows.Min(f => f.GetProperty("first_ts").GetDouble())) - 2;
        long to = (long)Math.Ceiling(flows.Max(f => f.GetProperty("last_ts").GetDouble())) + 2;

        // A timeline for two VMs: acme-ws1 busy at half a core with 1 GiB and 1 MB/s of writes, acme-db1 at 2 cores.
        string dir = Directory.CreateTempSubdirectory("fe-vmstate-cli-").FullName;
        try
        {
            string timeline = Path.Combine(dir, "vm-state.csv");
            var lines = new List<string> { "time_ns,vm,cpu_ns,memory_bytes,disk_read_bytes,disk_write_bytes" };
            for (long t = from; t <= to; t++)
            {
                long s = t - from;
                lines.Add($"{t * 1_000_000_000},acme-ws1,{s * 500_000_000},1073741824,0,{s * 1_000_000}");
                lines.Add($"{t * 1_000_000_000},acme-db1,{s * 2_000_000_000},,,");
            }

            File.WriteAllLines(timeline, lines);
            (exit, string stdout, _) = RunSensor("flows", DefaultCapture, "--inventory", inventory, "--vm-state", timeline, "--quiet");
            Assert.Equal(0, exit);
            var withState = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(flows.Count, withState.Count);
            int ws1 = 0, db1 = 0;
            foreach (JsonElement f in withState)
            {
                string? src = f.TryGetProperty("src_vm", out JsonElement v) ? v.GetString() : null;
                string? dst = f.TryGetProperty("dst_vm", out JsonElement d) ? d.GetString() : null;
                if (src == "acme-ws1")
                {
                    ws1++;
                    Assert.Equal(0.5, f.GetProperty("src_cpu").GetDouble(), 3);
                    Assert.Equal(1073741824, f.GetProperty("src_mem_bytes").GetInt64());
                    Assert.Equal(1e6, f.GetProperty("src_disk_write_bps").GetDouble(), 0);
                    Assert.Equal(0, f.GetProperty("src_disk_read_bps").GetDouble());
                    bool long1 = f.GetProperty("last_ts").GetDouble() - f.GetProperty("first_ts").GetDouble() > 1.0;
                    Assert.True(!long1 || f.TryGetProperty("src_cpu_end", out _), "a flow over a second long has its end state");
                }
                else
                {
                    Assert.False(f.TryGetProperty("src_cpu", out _) && src != "acme-db1", $"{src} has no samples");
                }

                if (dst == "acme-db1")
                {
                    db1++;
                    Assert.Equal(2.0, f.GetProperty("dst_cpu").GetDouble(), 3);
                    Assert.False(f.TryGetProperty("dst_mem_bytes", out _));
                }
            }

            Assert.True(ws1 > 100 && db1 > 100, $"{ws1} ws1 flows, {db1} db1 flows");

            File.AppendAllText(timeline, "12,acme-ws1,not-a-number,1,1,1\n");
            (exit, stdout, string stderr) = RunSensor("flows", DefaultCapture, "--vm-state", timeline);
            Assert.Equal(2, exit);
            Assert.Empty(stdout);
            Assert.Contains($"{timeline}:{lines.Count + 1}", stderr.Replace("\n", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Detect_OnItsDefaults_ScoresTheBundledCaptureWithTheEmbeddedModel()
    {
        (int exit, string stdout, string stderr) = RunSensor("detect");
        Assert.Equal(0, exit);
        Assert.Contains("flows scored", stderr, StringComparison.Ordinal);
        Assert.Contains("acme-ws1", stderr, StringComparison.Ordinal); // the bundled inventory's names
        var alerts = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(alerts, r => Assert.True(r.GetProperty("count").GetInt32() >= 1));

        // The lab's own labels are the oracle: each attack is named with its class, from or to its attacker, within
        // its time window. The 9-beacon C2 of this short capture is under the classifier's 10-connection minimum
        // (docs/detection.md); the model flags it as an anomaly in longer runs.
        string labels = Path.Combine(Repository.Root(), "samples", "data", "lab-small.labels.csv");
        var expected = new Dictionary<string, string> { ["exfil"] = "exfiltration", ["portscan"] = "scan", ["synflood"] = "dos", ["lateral"] = "lateral_movement", ["dnstunnel"] = "dns_tunnel" };
        foreach (string[] label in File.ReadAllLines(labels).Skip(1).Select(l => l.Split(',')))
        {
            if (!expected.TryGetValue(label[2], out string? type))
            {
                continue;
            }

            double start = double.Parse(label[0], CultureInfo.InvariantCulture), end = double.Parse(label[1], CultureInfo.InvariantCulture);
            Assert.Contains(alerts, r => r.GetProperty("type").GetString() == type
                && (r.GetProperty("src_ip").GetString() == label[6] || r.GetProperty("dst_ip").GetString() == label[6])
                && r.GetProperty("ts").GetDouble() >= start - 1 && r.GetProperty("ts").GetDouble() <= end + 1);
        }
    }

    [Fact]
    public void Detect_Mitigate_DryRun_AuditsEachDecision_AppliesNothing()
    {
        string audit = Path.Combine(Path.GetTempPath(), $"fe-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            (int exit, string stdout, string stderr) = RunSensor("detect", "--mitigate", "dry-run", "--audit", audit);
            Assert.Equal(0, exit);
            var alerts = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var events = File.ReadAllLines(audit).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.NotEmpty(events);
            Assert.DoesNotContain(events, e => e.GetProperty("event").GetString() == "applied");
            int simulated = events.Count(e => e.GetProperty("event").GetString() == "simulated");
            Assert.True(simulated > 0, "the default policy acts on the bundled capture's scan and flood");
            Assert.Equal(simulated, events.Count(e => e.GetProperty("event").GetString() == "reverted"));
            Assert.True(events.Count(e => e.GetProperty("event").GetString() == "decided") <= alerts.Count * 4);
            Assert.Contains("simulated (dry-run)", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(audit);
        }
    }

    [Fact]
    public void Detect_AlertsEcs_WritesEveryAlertAsAnEcsDocument()
    {
        string ecs = Path.Combine(Path.GetTempPath(), $"fe-ecs-{Guid.NewGuid():N}.jsonl");
        try
        {
            (int exit, string stdout, string stderr) = RunSensor("detect", "--alerts-ecs", ecs);
            Assert.Equal(0, exit);
            var alerts = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var docs = File.ReadAllLines(ecs).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.NotEmpty(alerts);
            Assert.Equal(alerts.Count, docs.Count);
            for (int i = 0; i < docs.Count; i++)
            {
                Assert.Equal("alert", docs[i].GetProperty("event").GetProperty("kind").GetString());
                Assert.Equal(alerts[i].GetProperty("src_ip").GetString(), docs[i].GetProperty("source").GetProperty("ip").GetString());
                Assert.Equal(alerts[i].GetProperty("dst_port").GetInt32(), docs[i].GetProperty("destination").GetProperty("port").GetInt32());
            }

            Assert.Contains($"{alerts.Count} sent, 0 dropped", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(ecs);
        }
    }

    [Fact]
    public void Detect_Archive_GivesTheSameAlertsAsTheCaptureThatWroteIt()
    {
        string dir = Directory.CreateTempSubdirectory("fe-detect-archive-").FullName;
        try
        {
            string inventory = Path.Combine(Repository.Root(), "samples", "data", "lab-small.inventory.csv");
            (int exit, _, _) = RunSensor("flows", DefaultCapture, "--inventory", inventory, "--archive", Path.Combine(dir, "archive"), "--quiet");
            Assert.Equal(0, exit);
            (exit, string fromCapture, _) = RunSensor("detect", DefaultCapture, "--inventory", inventory, "--each");
            Assert.Equal(0, exit);
            (exit, string fromArchive, string stderr) = RunSensor("detect", "--archive", Path.Combine(dir, "archive"), "--inventory", inventory, "--each");
            Assert.Equal(0, exit);
            Assert.True(fromCapture.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 1000);
            Assert.Equal(fromCapture, fromArchive); // every alert, its class, evidence and model view, byte for byte
            Assert.Contains("2,025 flows classified", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Flows_MissingFile_ClearError()
    {
        (int exit, _, string stderr) = RunSensor("flows", "/nonexistent/capture.pcap");
        Assert.Equal(1, exit);
        Assert.Contains("/nonexistent/capture.pcap", stderr, StringComparison.Ordinal);
    }

    private static (int Exit, string Stdout, string Stderr) RunSensor(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "FlowEngine.Sensor.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NO_COLOR"] = "1";
        using Process p = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => stderr.AppendLine(e.Data);
        p.BeginErrorReadLine();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "sensor took over 60 s");
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.ToString());
    }
}
