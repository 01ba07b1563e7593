// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;
using FlowEngine.Tests.Shared;

namespace FlowEngine.Tests.Context;

/// <summary>
/// VM identity on real captures: the bundled lab capture with its inventory (every labelled attacker named, every
/// external peer outside), the same capture learned without one (gateways recognised, only real VMs learned), and the
/// inner MACs read from VXLAN and Geneve frames checked against tshark.
/// </summary>
public sealed class VmIdentityTests
{
    private static string Data(string name) => Path.Combine(Repository.Root(), "samples", "data", name);

    private sealed record Flow(FlowRecord Record, VmIdentity Vms)
    {
        public string Src => Record.SourceAddress.ToString(Record.IpVersion);

        public string Dst => Record.DestinationAddress.ToString(Record.IpVersion);
    }

    private static (List<Flow> Flows, VmIdentityTable Table) Run(string capture, VmInventory? inventory, VmIdentityOptions? options = null)
    {
        var table = new VmIdentityTable(inventory, options);
        var flows = new List<Flow>();
        var sink = new BatchSink((records, _) =>
        {
            for (int i = 0; i < records.Length; i++)
            {
                flows.Add(new Flow(records[i], table.ForRecord(i)));
            }
        });
        using var pipeline = new FlowPipeline<VmIdentityExtension>(sink, new FlowPipelineOptions(), new VmIdentityExtension(table));
        using (CaptureFileReader reader = CaptureFile.Open(capture))
        {
            pipeline.Run(reader);
        }

        return (flows, table);
    }

    // RFC 4291 appendix A: the interface id is the MAC with ff:fe in the middle and the universal/local bit inverted.
    private static string Eui64LinkLocal(ulong mac)
    {
        byte[] a = new byte[16];
        a[0] = 0xFE;
        a[1] = 0x80;
        a[8] = (byte)((mac >> 40) ^ 0x02);
        a[9] = (byte)(mac >> 32);
        a[10] = (byte)(mac >> 24);
        a[11] = 0xFF;
        a[12] = 0xFE;
        a[13] = (byte)(mac >> 16);
        a[14] = (byte)(mac >> 8);
        a[15] = (byte)mac;
        return new System.Net.IPAddress(a).ToString();
    }

    private static IEnumerable<string[]> Labels() => File.ReadAllLines(Data("lab-small.labels.csv")).Skip(1).Select(SplitLabel);

    // start_ts,end_ts,type,attacker_vm,tenant,vni,attacker_ip,target,notes (notes may be quoted with commas)
    private static string[] SplitLabel(string line) => line.Split(',', 9);

    [Fact]
    public void LabWithInventory_EveryAttackerIsNamed_AndEveryNameMatchesItsInventoryRow()
    {
        VmInventory inventory = VmInventory.Load(Data("lab-small.inventory.csv"));
        (List<Flow> flows, VmIdentityTable table) = Run(Data("lab-small.pcapng"), inventory);
        Assert.True(flows.Count > 1000, $"{flows.Count} flows");

        // Each label's attack: flows in its time window from the attacker's address in its VNI carry its VM and tenant.
        foreach (string[] label in Labels())
        {
            long start = (long)(double.Parse(label[0], CultureInfo.InvariantCulture) * 1e9) - 1_000_000_000;
            long end = (long)(double.Parse(label[1], CultureInfo.InvariantCulture) * 1e9) + 1_000_000_000;
            var attack = flows.Where(f => f.Record.VnId == uint.Parse(label[5]) && f.Src == label[6] && f.Record.FirstNs >= start && f.Record.FirstNs <= end).ToList();
            Assert.True(attack.Count > 0, $"{label[2]}: no flow from {label[6]} in VNI {label[5]}");
            Assert.All(attack, f => Assert.Equal(label[3], f.Vms.Source?.Name));
            Assert.All(attack, f => Assert.Equal(label[4], f.Vms.Tenant));
        }

        // A named end is that VM's: same VNI and either its own address, or its MAC behind a routed address.
        foreach (Flow f in flows)
        {
            foreach ((VmInfo? vm, string address) in new[] { (f.Vms.Source, f.Src), (f.Vms.Destination, f.Dst) })
            {
                if (vm is not null)
                {
                    // Its inventory address, or (resolved by MAC) the IPv6 link-local address SLAAC derives from its MAC.
                    Assert.Equal(f.Record.VnId, vm.Vni);
                    Assert.True(address == vm.Address!.Value.ToString(vm.IpVersion) || address == Eui64LinkLocal(vm.Mac), $"{vm.Name} at {address}");
                }
            }
        }

        // Peers beyond the gateway (the lab's externals 203.0.113.0/24 and 198.51.100.0/24) are outside, never a VM.
        var external = flows.Where(f => f.Dst.StartsWith("203.0.113.", StringComparison.Ordinal) || f.Dst.StartsWith("198.51.100.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(external);
        Assert.All(external, f => Assert.True(f.Vms.DestinationOutside && f.Vms.Destination is null, $"{f.Src}->{f.Dst} {f.Vms.Destination?.Name}"));

        // The two tenants reuse 10.0.0.0/24: the same address names a different VM in each VNI.
        Assert.Contains(flows, f => f.Record.VnId == 5001 && f.Dst == "10.0.0.11" && f.Vms.Destination?.Name == "acme-web1");
        Assert.Contains(flows, f => f.Record.VnId == 5002 && f.Dst == "10.0.0.11" && f.Vms.Destination?.Name == "globex-web1");
        Assert.True(table.Statistics.EndsResolved > flows.Count, $"{table.Statistics.EndsResolved} ends resolved for {flows.Count} flows");
        Assert.True(table.Statistics.EndsOutside > 0);
    }

    [Fact]
    public void LabLearned_RecognisesBothGateways_LearnsOnlyAddressesThatSpoke_AndPutsExternalsOutside()
    {
        VmInventory inventory = VmInventory.Load(Data("lab-small.inventory.csv"));
        (List<Flow> flows, VmIdentityTable table) = Run(Data("lab-small.pcapng"), null);
        Assert.True(table.IsLearning);
        Assert.Equal(2, table.Statistics.GatewaysLearned);

        var known = inventory.Vms.Where(v => !v.IsGateway).Select(v => $"vni:{v.Vni}/{v.Address!.Value.ToString(v.IpVersion)}").ToHashSet();
        var learned = table.Vms.Select(v => v.Name).ToHashSet();

        // Every VM of the inventory that sent traffic is learned under its network and address; nothing else inside.
        var spoke = flows.SelectMany(f => new[] { (f.Record.VnId, f.Src, true), (f.Record.VnId, f.Dst, f.Record.ReversePackets > 0) })
            .Where(e => e.Item3).Select(e => $"vni:{e.VnId}/{e.Item2}").Where(known.Contains).ToHashSet();
        Assert.True(spoke.Count >= 10, string.Join(" ", spoke));
        Assert.Subset(learned, spoke);
        Assert.Subset(known, learned);

        // Records name only real VMs, except the one outside peer per network seen before its gateway was recognised.
        var inside = flows.SelectMany(f => new[] { f.Vms.Source, f.Vms.Destination }).Where(v => v is not null).Select(v => v!.Name).ToHashSet();
        var misjudged = inside.Except(known).ToList();
        Assert.True(misjudged.Count <= 2 && misjudged.GroupBy(n => n.Split('/')[0]).All(g => g.Count() == 1), string.Join(" ", misjudged));

        // The lateral-movement sweep probed addresses where no VM lives (10.0.0.13, .22, .32, .42): never learned.
        foreach (string ghost in new[] { "10.0.0.13", "10.0.0.22", "10.0.0.32", "10.0.0.42" })
        {
            Assert.DoesNotContain($"vni:5001/{ghost}", learned);
        }

        // Externals: outside once the gateway is recognised.
        var external = flows.Where(f => f.Dst.StartsWith("203.0.113.", StringComparison.Ordinal)).ToList();
        Assert.True(external.Count(f => f.Vms.DestinationOutside) >= external.Count - 4, $"{external.Count(f => !f.Vms.DestinationOutside)} of {external.Count} not outside");
        Assert.All(flows.Where(f => f.Vms.Source is not null), f => Assert.Equal(VmSource.Learned, f.Vms.Source!.Source));
        VmInfo web1 = flows.Select(f => f.Vms.Destination).First(v => v?.Name == "vni:5001/10.0.0.11")!;
        Assert.Equal(5001u, web1.Vni);
        Assert.Equal(0x02001389000BUL, web1.Mac);
    }

    [Fact]
    public void Learning_SkipsMulticastBroadcastAndLinkLocal_AndBoundsItsTable()
    {
        var table = new VmIdentityTable(null, new VmIdentityOptions { MaxLearnedAddresses = 3 });
        var sink = new BatchSink((_, _) => { });
        using var pipeline = new FlowPipeline<VmIdentityExtension>(sink, new FlowPipelineOptions(), new VmIdentityExtension(table));
        var batch = new PacketBatch(64, 1 << 16);
        long t = 1_000_000_000;
        foreach ((string src, string dst) in new[]
        {
            ("10.0.0.5", "224.0.0.251"), ("10.0.0.5", "255.255.255.255"), ("0.0.0.0", "255.255.255.255"),
            ("169.254.1.1", "10.0.0.5"), ("127.0.0.1", "10.0.0.5"),
            ("10.0.0.6", "10.0.0.7"), ("10.0.0.8", "10.0.0.9"), ("10.0.0.10", "10.0.0.11"),
        })
        {
            byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4(src, dst, 17, Frames.Udp(5353, 5353, new byte[8])));
            // Each sender its own MAC (the last octet of its address), so no MAC looks like a gateway's.
            frame[11] = System.Net.IPAddress.Parse(src).GetAddressBytes()[3];
            Assert.True(batch.TryAppendCopy(frame, frame.Length, t += 1000, LinkType.Ethernet));
        }

        pipeline.ProcessBatch(batch);
        pipeline.Flush();
        Assert.Equal(["none/10.0.0.5", "none/10.0.0.6", "none/10.0.0.8"], table.Vms.Select(v => v.Name));
        Assert.Equal(3, table.Statistics.EndsNotLearnable);
        Assert.Equal(1, table.Statistics.LearnedExhausted);
        Assert.True(VmIdentityTable.IsUnicastEndpoint(IpAddress.From(System.Net.IPAddress.Parse("2001:db8::1")), 6));
        foreach (string v6 in new[] { "::", "::1", "fe80::1", "ff02::fb" })
        {
            Assert.False(VmIdentityTable.IsUnicastEndpoint(IpAddress.From(System.Net.IPAddress.Parse(v6)), 6), v6);
        }
    }

    public static TheoryData<string> TunnelCaptures() =>
    [
        "zeek/testing/btest/Traces/tunnels/vxlan.pcap",
        "zeek/testing/btest/Traces/tunnels/geneve.pcap",
        "zeek/testing/btest/Traces/tunnels/geneve-many-options.pcap",
        "zeek/testing/btest/Traces/tunnels/vxlan-encapsulated-http.pcap",
        "@lab-small.pcapng",
    ];

    /// <summary>The inner frame's MACs as FlowEngine reads them equal tshark's innermost eth.src and eth.dst, frame by frame.</summary>
    [Theory]
    [MemberData(nameof(TunnelCaptures))]
    public void InnerMacs_EqualTsharksInnermostEthernet(string capture)
    {
        string path = capture.StartsWith('@') ? Data(capture[1..]) : Path.Combine(Corpora.Directory(), capture);
        const int limit = 3000;
        List<string[]> shark = Tshark.Fields(path, "eth.src", "eth.dst");
        var decoder = new PacketDecoder();
        var batch = new PacketBatch(256);
        using CaptureFileReader reader = CaptureFile.Open(path);
        int frame = 0, tunnelled = 0;
        while (frame < limit && reader.ReadBatch(batch))
        {
            for (int i = 0; i < batch.Count && frame < limit; i++, frame++)
            {
                DecodedPacket p = default;
                p.WireLength = batch.GetWireLength(i);
                if (!decoder.Decode(batch.GetFrame(i), batch.GetLinkType(i), ref p))
                {
                    continue;
                }

                string[] sources = shark[frame][0].Split(','), destinations = shark[frame][1].Split(',');
                bool read = VmIdentityTable.TryReadMacs(in p, batch.GetFrame(i), out ulong src, out ulong dst);
                if (p.TunnelDepth > 0 && sources.Length >= 2)
                {
                    Assert.True(read, $"{capture} frame {frame + 1}: tunnelled Ethernet not read");
                    tunnelled++;
                }

                if (read)
                {
                    Assert.Equal(sources[^1], VmInfo.FormatMac(src));
                    Assert.Equal(destinations[^1], VmInfo.FormatMac(dst));
                }
            }
        }

        Assert.True(tunnelled > 0, $"{capture}: no tunnelled Ethernet frame compared");
    }

    private delegate void BatchHandler(ReadOnlySpan<FlowRecord> records, int unused);

    private sealed class BatchSink(BatchHandler handler) : IFlowSink
    {
        public void OnFlows(ReadOnlySpan<FlowRecord> records) => handler(records, 0);

        public void Flush()
        {
        }

        public void Complete()
        {
        }
    }
}
