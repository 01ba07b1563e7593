// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using FlowEngine.Capture;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Lab;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Lab;

public class DetectionEvaluatorTests
{
    private const long S = 1_000_000_000;

    private static FlowRecord Flow(uint vni, string src, ushort sport, string dst, ushort dport, long firstS, long lastS)
    {
        FlowRecord r = default;
        r.VnKind = VirtualNetworkKind.Vxlan;
        r.VnId = vni;
        r.IpVersion = 4;
        r.Protocol = 6;
        r.SourceAddress = IpAddress.From(IPAddress.Parse(src));
        r.DestinationAddress = IpAddress.From(IPAddress.Parse(dst));
        r.SourcePort = sport;
        r.DestinationPort = dport;
        r.FirstNs = firstS * S;
        r.LastNs = lastS * S;
        r.ForwardPackets = 1;
        return r;
    }

    private static AttackLabel Label(long startS, long endS, AttackClass c, string attacker, uint vni) =>
        new(startS * S, endS * S, c, "vm", new VirtualNetworkId(VirtualNetworkKind.Vxlan, vni), IpAddress.From(IPAddress.Parse(attacker)), 4);

    [Fact]
    public void Evaluate_HandBuiltCase_ExactArithmetic()
    {
        AttackLabel[] labels =
        [
            Label(100, 110, AttackClass.Scan, "10.0.0.1", 1),
            Label(200, 210, AttackClass.Exfiltration, "10.0.0.2", 1),
        ];
        FlowRecord f1 = Flow(1, "10.0.0.1", 1000, "10.0.0.9", 22, 101, 101);
        FlowRecord f2 = Flow(1, "10.0.0.1", 1001, "10.0.0.8", 23, 102, 102);
        FlowRecord f3 = Flow(1, "10.0.0.1", 1002, "10.0.0.9", 80, 50, 60);
        FlowRecord f4 = Flow(1, "10.0.0.2", 5000, "203.0.113.1", 443, 200, 209);
        FlowRecord f5 = Flow(1, "10.0.0.5", 5001, "10.0.0.6", 443, 300, 301);
        FlowRecord f6 = Flow(2, "10.0.0.1", 1000, "10.0.0.9", 22, 101, 101);
        FlowRecord[] flows = [f1, f2, f3, f4, f5, f6];
        Alert[] alerts =
        [
            new(105 * S, AttackClass.Scan, 0.9, FlowIdentity.Of(f1)),
            new(215 * S, AttackClass.DenialOfService, 0.8, FlowIdentity.Of(f4)),
            new(301 * S, AttackClass.Scan, 0.7, FlowIdentity.Of(f5)),
        ];

        DetectionReport report = DetectionEvaluator.Evaluate(labels, flows, alerts, vmCount: 4);

        DetectionReport.ClassResult scan = report.Classes.Single(c => c.Class == AttackClass.Scan);
        Assert.Equal(1, scan.Attacks);
        Assert.True(scan.Detected);
        Assert.Equal(TimeSpan.FromSeconds(5), scan.TimeToDetect);
        Assert.Equal(2, scan.AttackFlows);
        Assert.Equal(1, scan.DetectedFlows);
        Assert.Equal(0.5, scan.Recall);
        Assert.Equal(2, scan.Alerts);
        Assert.Equal(0.5, scan.Precision);

        DetectionReport.ClassResult exfil = report.Classes.Single(c => c.Class == AttackClass.Exfiltration);
        Assert.False(exfil.Detected);
        Assert.Null(exfil.TimeToDetect);
        Assert.Equal(1, exfil.AttackFlows);
        Assert.Equal(0.0, exfil.Recall);
        Assert.Null(exfil.Precision);

        Assert.Equal(1, report.Confusion(AttackClass.Scan, AttackClass.Scan));
        Assert.Equal(1, report.Confusion(AttackClass.Scan, AttackClass.None));
        Assert.Equal(1, report.Confusion(AttackClass.Exfiltration, AttackClass.DenialOfService));
        Assert.Equal(1, report.Confusion(AttackClass.None, AttackClass.Scan));
        Assert.Equal(2, report.Confusion(AttackClass.None, AttackClass.None));

        // Capture 50 s to 301 s, attacks 20 s of it: 231 s of normal traffic on 4 VMs; one alert outside attacks.
        Assert.Equal(1, report.FalseAlerts);
        Assert.Equal(231.0 / 3600 * 4, report.NormalVmHours, 12);
        Assert.Equal(1 / (231.0 / 3600 * 4), report.FalseAlertsPerVmHour, 9);

        using JsonDocument json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(0.5, json.RootElement.GetProperty("classes")[1].GetProperty("recall").GetDouble());
        Assert.Contains("portscan", report.ToTable(), StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_LabSmall_EveryLabelledAttackHasFlows()
    {
        string data = Path.Combine(Repository.Root(), "samples", "data");
        IReadOnlyList<AttackLabel> labels = AttackLabel.ReadCsv(Path.Combine(data, "lab-small.labels.csv"));
        int vms = File.ReadAllLines(Path.Combine(data, "lab-small.inventory.csv")).Skip(1).Count(l => l.Length > 0);
        var flows = new List<FlowRecord>();
        using (CaptureFileReader reader = CaptureFile.Open(Path.Combine(data, "lab-small.pcapng")))
        {
            using var pipeline = new FlowPipeline(FlowSink.ToList(flows));
            pipeline.Run(reader);
        }

        // No detector exists yet: nothing is detected, and the ground truth must still find each attack's flows.
        DetectionReport report = DetectionEvaluator.Evaluate(labels, flows, [], vms);
        Assert.Equal(labels.Select(l => l.Class).Distinct().Count(), report.Classes.Count);
        Assert.All(report.Classes, c => Assert.True(c.AttackFlows > 0, $"{c.Class}: no attack flow"));
        Assert.All(report.Classes, c => Assert.False(c.Detected));
        Assert.True(report.NormalVmHours > 0);
    }

    [Fact]
    public void ReadCsv_BadLine_NamesFileAndLine()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(file, ["start_ts,end_ts,type,attacker_vm,tenant,vni,attacker_ip,target,notes", "1.5,2.5,portscan,vm,t,7,not-an-ip,x,y"]);
            FormatException e = Assert.Throws<FormatException>(() => AttackLabel.ReadCsv(file));
            Assert.Contains($"{file}: line 2", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
