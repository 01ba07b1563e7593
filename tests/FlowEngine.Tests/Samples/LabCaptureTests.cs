// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Samples;

/// <summary>
/// The lab capture bundled as the sensor's default input, read with its own inventory and labels: every packet
/// decodes (non-IP frames such as ARP aside), every VM's traffic sits in its tenant's VNI, and every labelled
/// attack's attacker sends flows in its VNI during the attack.
/// </summary>
public class LabCaptureTests
{
    private static string Data(string file) => Path.Combine(Repository.Root(), "samples", "data", file);

    private static List<string[]> Csv(string file) => File.ReadAllLines(Data(file)).Skip(1).Where(l => l.Length > 0)
        .Select(l => l.Split(',')).ToList();

    [Fact]
    public void LabSmall_FlowsMatchInventoryAndLabels()
    {
        var records = new List<FlowRecord>();
        PipelineStatistics stats;
        using (CaptureFileReader reader = CaptureFile.Open(Data("lab-small.pcapng")))
        {
            using var pipeline = new FlowPipeline(FlowSink.ToList(records));
            stats = pipeline.Run(reader);
        }

        Assert.True(stats.PacketsRead > 1000, $"{stats.PacketsRead} packets");
        Assert.All(stats.RejectedByReason(), r => Assert.Equal(RejectReason.NonIp, r.Key));

        // Inventory: name, tenant, vni, inner_ip, inner_mac, role, hypervisor. Tenants reuse addresses, so an
        // address must appear in the VNI of each tenant that owns it and nowhere else on the overlay.
        List<string[]> inventory = Csv("lab-small.inventory.csv");
        Assert.True(inventory.Count >= 10, $"{inventory.Count} VMs");
        var vnisByAddress = inventory.GroupBy(v => v[3]).ToDictionary(g => g.Key, g => g.Select(v => uint.Parse(v[2], CultureInfo.InvariantCulture)).ToHashSet());
        Assert.Contains(vnisByAddress, kv => kv.Value.Count > 1);
        foreach (FlowRecord r in records.Where(r => r.VnKind == VirtualNetworkKind.Vxlan))
        {
            string src = r.SourceAddress.ToString(r.IpVersion);
            if (vnisByAddress.TryGetValue(src, out HashSet<uint>? vnis))
            {
                Assert.True(vnis.Contains(r.VnId), $"{src} sends in VNI {r.VnId}, inventory says {string.Join('/', vnis)}");
            }
        }

        // Labels: start_ts, end_ts, type, attacker_vm, tenant, vni, attacker_ip, target, notes.
        List<string[]> labels = Csv("lab-small.labels.csv");
        Assert.True(labels.Select(l => l[2]).Distinct().Count() >= 5, "fewer than five attack types labelled");
        foreach (string[] label in labels)
        {
            long start = (long)(decimal.Parse(label[0], CultureInfo.InvariantCulture) * 1_000_000_000m);
            long end = (long)(decimal.Parse(label[1], CultureInfo.InvariantCulture) * 1_000_000_000m);
            uint vni = uint.Parse(label[5], CultureInfo.InvariantCulture);
            var attacker = IPAddress.Parse(label[6]);
            bool seen = records.Any(r => r.VnKind == VirtualNetworkKind.Vxlan && r.VnId == vni
                && r.SourceAddress.ToIPAddress(r.IpVersion).Equals(attacker)
                && r.FirstNs <= end && r.LastNs >= start);
            Assert.True(seen, $"no flow from {attacker} in VNI {vni} during the {label[2]} attack");
        }
    }

    [Fact]
    public void LabSmall_GeneveVariant_DecodesToTheSameFlows()
    {
        // The lab's re-encapsulation script turns VNI 5002 into Geneve with two options; every flow must be the
        // same, with vn_type geneve instead of vxlan for that tenant.
        string geneve = Path.Combine(Path.GetTempPath(), $"flowengine-geneve-{Guid.NewGuid():N}.pcapng");
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[] { Path.Combine(Repository.Root(), "benchmarks", "lab", "geneve.py"), "--vni", "5002", Data("lab-small.pcapng"), geneve })
            {
                psi.ArgumentList.Add(arg);
            }

            using (var p = System.Diagnostics.Process.Start(psi)!)
            {
                string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
                Assert.True(p.WaitForExit(60_000), "geneve.py took over 60 s");
                Assert.True(p.ExitCode == 0, output);
            }

            List<FlowRecord> Flows(string path)
            {
                var records = new List<FlowRecord>();
                using CaptureFileReader reader = CaptureFile.Open(path);
                using var pipeline = new FlowPipeline(FlowSink.ToList(records));
                pipeline.Run(reader);
                return records;
            }

            static string Key(FlowRecord r) =>
                $"{r.VnId} {r.Protocol} {r.SourceAddress.ToString(r.IpVersion)}:{r.SourcePort} {r.DestinationAddress.ToString(r.IpVersion)}:{r.DestinationPort} {r.FirstNs} {r.ForwardPackets}/{r.ForwardBytes} {r.ReversePackets}/{r.ReverseBytes}";

            List<FlowRecord> vxlan = Flows(Data("lab-small.pcapng")), reencapsulated = Flows(geneve);
            Assert.Equal(vxlan.Select(Key).Order(), reencapsulated.Select(Key).Order());
            Assert.Contains(reencapsulated, r => r.VnKind == VirtualNetworkKind.Geneve && r.VnId == 5002);
            Assert.DoesNotContain(reencapsulated, r => r.VnKind == VirtualNetworkKind.Vxlan && r.VnId == 5002);
            Assert.Equal(
                vxlan.Count(r => r.VnKind == VirtualNetworkKind.Vxlan && r.VnId == 5002),
                reencapsulated.Count(r => r.VnKind == VirtualNetworkKind.Geneve && r.VnId == 5002));
        }
        finally
        {
            File.Delete(geneve);
        }
    }
}
