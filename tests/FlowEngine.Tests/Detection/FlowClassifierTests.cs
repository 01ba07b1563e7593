// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using System.Text;
using FlowEngine.Context;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Detection;

/// <summary>The classifier's rules on synthetic flows whose every field the test sets: what passes, what does not, and adaptation.</summary>
public sealed class FlowClassifierTests
{
    private const long Second = 1_000_000_000;
    private const long T0 = 1_800_000_000 * Second;
    private static readonly VirtualNetworkId s_net = new(VirtualNetworkKind.Vxlan, 5001);

    [Fact]
    public void VerticalScan_AlertsAtTheFloor_WithItsEvidence()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        for (int port = 1; port <= 40; port++)
        {
            Run(c, Tcp("10.0.0.41", "10.0.0.31", (ushort)port, T0 + (port * Second / 10), payload: false), alerts);
        }

        Assert.NotEmpty(alerts);
        Assert.All(alerts, a => Assert.Equal(AttackClass.Scan, a.Class));
        Alert first = alerts[0];
        Assert.Equal("scan.distinct_ports", first.Evidence![0].Rule);
        Assert.InRange(first.Evidence[0].Value, 16, 18); // the floor of 16 distinct ports, estimated
        Assert.Equal(IpAddress.From(IPAddress.Parse("10.0.0.31")), first.Target);
        Assert.InRange(alerts.Count, 20, 26); // every probe from the one that crossed the floor
    }

    [Fact]
    public void ManyPortsThatAnswer_AreNotAScan()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        for (int port = 1; port <= 40; port++)
        {
            Run(c, Tcp("10.0.0.41", "10.0.0.31", (ushort)(8000 + port), T0 + (port * Second / 10), payload: true), alerts);
        }

        Assert.Empty(alerts);
    }

    [Fact]
    public void HorizontalFanOut_LearnedAsTheSourcesNormal_StopsAlerting()
    {
        // A monitoring VM probes 24 hosts on one port every minute, mostly unanswered: the first minutes pass the
        // floor of 16; windows that alerted are learned at a quarter of the weight, so within a few windows the
        // source's level (about 24 / 4) makes the same fan-out its normal.
        var c = new FlowClassifier();
        var perMinute = new List<int>();
        for (int minute = 0; minute < 15; minute++)
        {
            var alerts = new List<Alert>();
            for (int h = 0; h < 24; h++)
            {
                Run(c, Tcp("10.0.0.5", $"10.0.1.{h + 1}", 9100, T0 + (minute * 61 * Second) + (h * Second), payload: false), alerts);
            }

            perMinute.Add(alerts.Count);
        }

        Assert.True(perMinute[0] > 0, "the first minute is over the floor");
        Assert.All(perMinute.Skip(8), n => Assert.Equal(0, n));

        // Four times its level (about 100 hosts) is a scan again.
        var burst = new List<Alert>();
        for (int h = 0; h < 160; h++)
        {
            Run(c, Tcp("10.0.0.5", $"10.0.2.{h + 1}", 9100, T0 + (15 * 61 * Second) + (h * Second / 10), payload: false), burst);
        }

        Assert.Contains(burst, a => a.Class == AttackClass.Scan);
    }

    [Fact]
    public void StealthProbe_IsAScanOnItsOwn()
    {
        var c = new FlowClassifier();
        FlowRecord xmas = Tcp("192.168.1.178", "192.168.1.2", 3392, T0, payload: false);
        xmas.ForwardTcpFlags = TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Urg;
        var alerts = new List<Alert>();
        Run(c, xmas, alerts);
        Alert a = Assert.Single(alerts);
        Assert.Equal(AttackClass.Scan, a.Class);
        Assert.Equal("scan.xmas_probe", a.Evidence![0].Rule);
    }

    [Fact]
    public void SynFloodFromSpoofedSources_IsDos_AndItsVictimIsTheTarget()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        for (int i = 0; i < 300; i++)
        {
            FlowRecord r = Tcp($"198.18.{i / 250}.{(i % 250) + 1}", "10.0.0.12", 80, T0 + (i * Second / 100), payload: false);
            r.ReversePackets = 0;
            Run(c, r, alerts);
        }

        Assert.InRange(alerts.Count, 150, 201); // from the 100th flow of the window on
        Assert.All(alerts, a => Assert.Equal(AttackClass.DenialOfService, a.Class));
        Assert.Equal(IpAddress.From(IPAddress.Parse("10.0.0.12")), alerts[0].Target);
        Assert.True(alerts[^1].Evidence!.Single(e => e.Rule == "dos.sources").Value > 32);
    }

    [Fact]
    public void Backscatter_TheVictimsAnswersAlone_IsDos()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        for (int i = 0; i < 200; i++)
        {
            FlowRecord r = Tcp("10.0.0.12", $"198.18.0.{(i % 250) + 1}", (ushort)(1024 + i), T0 + (i * Second / 100), payload: false);
            (r.SourcePort, r.DestinationPort) = (80, (ushort)(1024 + i));
            r.ForwardTcpFlags = TcpFlags.Syn | TcpFlags.Ack;
            r.ReversePackets = 0;
            Run(c, r, alerts);
        }

        Assert.Contains(alerts, a => a.Class == AttackClass.DenialOfService && a.Evidence![0].Rule == "dos.backscatter_flows");
    }

    [Fact]
    public void BusyServer_ManyAnsweredFlows_IsNotDos()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        for (int i = 0; i < 500; i++)
        {
            Run(c, Tcp($"10.0.{i / 200}.{(i % 200) + 1}", "10.0.0.12", 443, T0 + (i * Second / 100), payload: true), alerts);
        }

        Assert.Empty(alerts);
    }

    [Theory]
    [InlineData("4a6f686e20536d697468206973206e6f74206865726520313233.t.example.com", true)] // hex
    [InlineData("mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjrgc.t.example.com", true)] // base32
    [InlineData("dnscat.546b03f50000000000a6023ed4df184d6ac5c2628b.5a03b5b1e1aa8f8f", true)] // a tag, then hex
    [InlineData("www.example.com", false)]
    [InlineData("e1234.dscb.akamaiedge.net", false)]
    [InlineData("internationalisation-department.example.org", false)] // long, but words
    [InlineData("_dmarc.example.co.uk", false)]
    public void DnsNameShape_TellsEncodedSubdomains(string name, bool encoded)
    {
        DnsNameShape shape = DnsNameShape.Of(Encoding.ASCII.GetBytes(name));
        Assert.Equal(encoded, shape.Encoded);
    }

    [Fact]
    public void DnsNameShape_RegisteredDomain_IgnoresCaseAndTrailingDot()
    {
        DnsNameShape a = DnsNameShape.Of("AbC.Tunnel.Example.COM."u8), b = DnsNameShape.Of("xyz.example.com"u8), uk = DnsNameShape.Of("a.b.example.co.uk"u8);
        Assert.Equal(a.DomainHash, b.DomainHash);
        Assert.Equal("example.co.uk", "a.b.example.co.uk"[uk.DomainStart..]);
        Assert.Equal(default, DnsNameShape.Of(default));
    }

    [Fact]
    public void Beacon_RegularIntervalsAndSizes_IsC2_JitteredTrafficIsNot()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        var random = new Random(7);
        for (int i = 0; i < 30; i++)
        {
            // Every 60 s with 5% jitter, 900 to 930 bytes: a beacon.
            FlowRecord b = Tcp("10.0.0.21", "203.0.113.66", 8443, T0 + (i * 60 * Second) + (long)(random.NextDouble() * 3 * Second), payload: true);
            b.ForwardBytes = 600 + (ulong)random.Next(0, 30);
            b.ReverseBytes = 300;
            Run(c, b, alerts, destinationOutside: true);

            // Browsing: irregular intervals and sizes to another external host.
            FlowRecord w = Tcp("10.0.0.21", "198.51.100.9", 443, T0 + (long)(Math.Pow(i, 1.7) * 20 * Second), payload: true);
            w.ForwardBytes = (ulong)random.Next(500, 5_000);
            w.ReverseBytes = (ulong)random.Next(5_000, 500_000);
            Run(c, w, alerts, destinationOutside: true);
        }

        Assert.NotEmpty(alerts);
        Assert.All(alerts, a => Assert.Equal(AttackClass.CommandAndControl, a.Class));
        Assert.All(alerts, a => Assert.Equal("203.0.113.66", a.Flow.Destination.ToString(4)));
        Assert.True(alerts[0].Evidence![0].Value >= 0.8);
    }

    [Fact]
    public void Beacon_ThatTheModelExpects_IsTheVmsOwnPeriodicTraffic()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        var expected = new ModelSurprise(Scored: true, Alert: false, Score: 3, Threshold: 20, SurprisedHeads.None);
        for (int i = 0; i < 30; i++)
        {
            FlowRecord ntp = Udp("10.0.0.21", "203.0.113.123", 123, T0 + (i * 64 * Second));
            Run(c, ntp, alerts, destinationOutside: true, model: expected);
        }

        Assert.Empty(alerts);
    }

    [Fact]
    public void Exfiltration_SpreadOverFlowsToANewDestination_PassesTheVmsOwnLargestVolume()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        var surprised = new ModelSurprise(true, false, 10, 20, SurprisedHeads.Peer);
        var known = new ModelSurprise(true, false, 3, 20, SurprisedHeads.None);

        // Its normal: a 2 MB upload to its backup server every hour, which the model expects.
        for (int i = 0; i < 12; i++)
        {
            FlowRecord backup = Tcp("10.0.0.51", "203.0.113.90", 5201, T0 + (i * 3600 * Second), payload: true);
            backup.ForwardBytes = 2_000_000;
            Run(c, backup, alerts, destinationOutside: true, model: known);
        }

        Assert.Empty(alerts);

        // Then 400 KB pieces at irregular times to a destination it never used: under its level of 2 MB times 4 until the 21st.
        var random = new Random(3);
        long at = T0 + (((11 * 3600) + 100) * Second);
        for (int i = 0; i < 15; i++)
        {
            at += random.Next(5, 120) * Second;
            FlowRecord piece = Tcp("10.0.0.51", "192.0.2.77", 443, at, payload: true);
            piece.ForwardBytes = 400_000;
            Run(c, piece, alerts, destinationOutside: true, model: surprised);
        }

        Assert.Empty(alerts);
        for (int i = 15; i < 25; i++)
        {
            at += random.Next(5, 120) * Second;
            FlowRecord piece = Tcp("10.0.0.51", "192.0.2.77", 443, at, payload: true);
            piece.ForwardBytes = 400_000;
            Run(c, piece, alerts, destinationOutside: true, model: surprised);
        }

        Assert.NotEmpty(alerts);
        Assert.All(alerts, a => Assert.Equal(AttackClass.Exfiltration, a.Class));
        Assert.InRange(alerts[0].Evidence![0].Value, 8_000_000, 8_400_000); // the VM's 2 MB level times 4
    }

    [Fact]
    public void LateralMovement_NewAdminTargets_AndGuessingThenSession()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        Run(c, Tcp("10.0.0.12", "10.0.0.11", 22, T0, payload: false), alerts);
        Run(c, Tcp("10.0.0.12", "10.0.0.21", 445, T0 + Second, payload: false), alerts);
        Assert.Empty(alerts);
        Run(c, Tcp("10.0.0.12", "10.0.0.31", 3389, T0 + (2 * Second), payload: false), alerts);
        Alert fanOut = Assert.Single(alerts);
        Assert.Equal(AttackClass.LateralMovement, fanOut.Class);
        Assert.Equal("lateral.new_admin_targets", fanOut.Evidence![0].Rule);

        // Guessing on one host, then a session of a minute.
        var d = new FlowClassifier();
        alerts.Clear();
        for (int i = 0; i < 9; i++)
        {
            Run(d, Tcp("10.0.0.40", "10.0.0.50", 22, T0 + (i * 2 * Second), payload: true), alerts);
        }

        FlowRecord session = Tcp("10.0.0.40", "10.0.0.50", 22, T0 + (20 * Second), payload: true);
        session.LastNs = session.FirstNs + (60 * Second);
        Run(d, session, alerts);
        Assert.Equal("lateral.failed_then_succeeded", alerts[^1].Evidence![0].Rule);
        Assert.True(alerts[^1].Confidence > alerts[0].Confidence);
    }

    [Fact]
    public void ThreatIntel_MatchesAddressesPrefixesDomainsAndFingerprints_AndReloads()
    {
        string dir = Directory.CreateTempSubdirectory("fe-intel-").FullName;
        try
        {
            string list = Path.Combine(dir, "list.txt"), csv = Path.Combine(dir, "iocs.csv");
            File.WriteAllText(list, "# comment\n203.0.113.7\n198.51.100.0/24\nbad.example\nnot an indicator\n2001:db8::/32\n");
            File.WriteAllText(csv, "type,indicator,comment\nja3,51c64c77e60f3980eea90869b68c58a8,emotet\ndomain,203.0.113.8,wrong type\n");
            var feed = new ThreatIntelFeed([list, csv]);
            ThreatIntelSet set = feed.Current;
            Assert.Equal(5, set.Count);
            Assert.Equal(2, set.RejectedCount);
            Assert.Contains(set.Rejected, r => r.StartsWith(list + ":5:", StringComparison.Ordinal));
            Assert.Contains(set.Rejected, r => r.StartsWith(csv + ":3:", StringComparison.Ordinal));
            Assert.True(set.Contains(Ip("203.0.113.7"), 4));
            Assert.False(set.Contains(Ip("203.0.113.8"), 4));
            Assert.True(set.Contains(Ip("198.51.100.200"), 4));
            Assert.True(set.Contains(Ip("2001:db8:1::5"), 6));
            Assert.True(set.ContainsDomain("WWW.Bad.Example."u8));
            Assert.False(set.ContainsDomain("notbad.example"u8));
            Assert.True(set.ContainsFingerprint("51C64C77E60F3980EEA90869B68C58A8"u8));

            Assert.False(feed.Refresh());
            File.AppendAllText(list, "evil.test\n");
            File.SetLastWriteTimeUtc(list, DateTime.UtcNow.AddSeconds(5));
            Assert.True(feed.Refresh());
            Assert.True(feed.Current.ContainsDomain("a.evil.test"u8));
            File.Delete(csv);
            Assert.False(feed.Refresh());
            Assert.NotNull(feed.LastError);
            Assert.True(feed.Current.ContainsDomain("a.evil.test"u8)); // the set in force stays
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ResourceAbuse_BusyCpuWithALongConnectionOutOnAnUnusualPort_IsMalware()
    {
        // The miner's VM runs at 1.9 cores, an idle one at 0.05; both hold a 10-minute connection to port 3333.
        var states = new FixedStates(new() { ["miner"] = 1.9, ["idle"] = 0.05 });
        var c = new FlowClassifier(states: states);
        var alerts = new List<Alert>();
        foreach (string vm in new[] { "miner", "idle" })
        {
            FlowRecord pool = Tcp(vm == "miner" ? "10.0.0.61" : "10.0.0.62", "198.51.100.50", 3333, T0, payload: true);
            pool.LastNs = T0 + (600 * Second);
            var vms = new VmIdentity(new VmInfo(vm, VmSource.Inventory), null, false, true, 0, 0);
            if (c.Classify(new FlowObservation(in pool, in vms, default, default), out Alert a))
            {
                alerts.Add(a);
            }
        }

        Alert miner = Assert.Single(alerts);
        Assert.Equal(AttackClass.Malware, miner.Class);
        Assert.Equal("miner", miner.Vm);
        Assert.Equal("malware.cpu_cores", miner.Evidence![0].Rule);
        Assert.Equal(1.9, miner.Evidence[0].Value);

        // The same busy VM on a short flow, or to a common port, is not abuse.
        FlowRecord web = Tcp("10.0.0.61", "198.51.100.50", 443, T0 + (700 * Second), payload: true);
        web.LastNs = web.FirstNs + (600 * Second);
        var minerVm = new VmIdentity(new VmInfo("miner", VmSource.Inventory), null, false, true, 0, 0);
        Assert.False(c.Classify(new FlowObservation(in web, in minerVm, default, default), out _));
    }

    [Fact]
    public void ModelDeviationThatFitsNoClass_IsAnAnomaly_ClassifiedOnesGainConfidence()
    {
        var c = new FlowClassifier();
        var alerts = new List<Alert>();
        var deviating = new ModelSurprise(true, true, 40, 20, SurprisedHeads.Bytes, SurprisedHeads.Bytes);
        Run(c, Tcp("10.0.0.21", "10.0.0.31", 5432, T0, payload: true), alerts, model: deviating);
        Alert a = Assert.Single(alerts);
        Assert.Equal(AttackClass.Anomaly, a.Class);
        Assert.Equal("model.log_bytes", a.Evidence![0].Rule);
        Assert.Contains(a.Evidence, e => e.Rule == "model.score" && e.Value == 40 && e.Threshold == 20);
    }

    [Fact]
    public void Options_Validate_RefusesNonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlowClassifier(new ClassifierOptions { BaselineFactor = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlowClassifier(new ClassifierOptions { Scan = new ScanOptions { MinFailedShare = 1.5 } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlowClassifier(new ClassifierOptions { Beacon = new BeaconOptions { MinConnections = 64 } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlowClassifier(new ClassifierOptions { Lateral = new LateralOptions { AdminPorts = new HashSet<ushort>() } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlowClassifier(new ClassifierOptions { MaxKeys = 1 }));
    }

    [Fact]
    public void BoundedState_EvictsTheOldestKeys_AndCountsThem()
    {
        var c = new FlowClassifier(new ClassifierOptions { MaxKeys = 64 });
        var alerts = new List<Alert>();
        for (int i = 0; i < 1000; i++)
        {
            Run(c, Tcp($"10.1.{i / 250}.{(i % 250) + 1}", "10.0.0.31", 80, T0 + (i * Second), payload: true), alerts);
        }

        Assert.True(c.KeysEvicted > 900, $"{c.KeysEvicted} evicted");
        Assert.Equal(1000, c.Flows);
    }

    [Fact]
    public void AlertGrouper_OneAlertPerCause_WithCountAndSpan()
    {
        var closed = new List<Alert>();
        var g = new AlertGrouper(TimeSpan.FromSeconds(60), new ListSink(closed));
        FlowIdentity flow = default;
        for (int i = 0; i < 100; i++)
        {
            g.OnAlert(new Alert(T0 + (i * Second), AttackClass.DenialOfService, 1, flow) { Vm = "web", Target = Ip("10.0.0.12"), Count = 1, LastNs = T0 + (i * Second), Confidence = i == 50 ? 0.9 : 0.7, Evidence = [new("dos.flows", i, 100)] });
        }

        g.OnAlert(new Alert(T0 + (5 * Second), AttackClass.Scan, 1, flow) { Vm = "web", Count = 1, LastNs = T0 + (5 * Second), Confidence = 0.6, Evidence = [new("scan.distinct_hosts", 20, 16)] });
        Assert.Empty(closed);
        g.OnAlert(new Alert(T0 + (400 * Second), AttackClass.DenialOfService, 1, flow) { Vm = "web", Target = Ip("10.0.0.12"), Count = 1, LastNs = T0 + (400 * Second), Confidence = 0.7, Evidence = [new("dos.flows", 1, 100)] });
        Assert.Equal(2, closed.Count);
        Assert.Equal(AttackClass.DenialOfService, closed[0].Class);
        Assert.Equal(100, closed[0].Count);
        Assert.Equal(T0, closed[0].TimestampNs);
        Assert.Equal(T0 + (99 * Second), closed[0].LastNs);
        Assert.Equal(0.9, closed[0].Confidence);
        Assert.Equal(AttackClass.Scan, closed[1].Class);
        g.Flush();
        Assert.Equal(3, closed.Count);
        Assert.Equal(100, g.Suppressed + 1);
    }

    private static IpAddress Ip(string s) => IpAddress.From(IPAddress.Parse(s));

    private static FlowRecord Tcp(string src, string dst, ushort port, long firstNs, bool payload)
    {
        var r = new FlowRecord
        {
            SourceAddress = Ip(src),
            DestinationAddress = Ip(dst),
            IpVersion = 4,
            Protocol = IpProtocol.Tcp,
            SourcePort = 40000,
            DestinationPort = port,
            FirstNs = firstNs,
            LastNs = firstNs + (Second / 100),
            VnKind = s_net.Kind,
            VnId = s_net.Id,
            ForwardPackets = payload ? 6u : 1u,
            ReversePackets = 1,
            ForwardTcpFlags = payload ? TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin : TcpFlags.Syn,
            ReverseTcpFlags = payload ? TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin : TcpFlags.Rst | TcpFlags.Ack,
            ForwardBytes = payload ? 700u : 60u,
            ReverseBytes = payload ? 1500u : 54u,
            ForwardPayloadBytes = payload ? 400u : 0u,
            ReversePayloadBytes = payload ? 1200u : 0u,
        };
        return r;
    }

    private static FlowRecord Udp(string src, string dst, ushort port, long firstNs)
    {
        FlowRecord r = Tcp(src, dst, port, firstNs, payload: true);
        r.Protocol = IpProtocol.Udp;
        r.ForwardTcpFlags = TcpFlags.None;
        r.ReverseTcpFlags = TcpFlags.None;
        r.ForwardBytes = 90;
        r.ReverseBytes = 90;
        return r;
    }

    private static void Run(FlowClassifier c, FlowRecord r, List<Alert> alerts, bool destinationOutside = false, ModelSurprise model = default)
    {
        var vms = new VmIdentity(null, null, false, destinationOutside, 0, 0);
        if (c.Classify(new FlowObservation(in r, in vms, default, default, model), out Alert a))
        {
            alerts.Add(a);
        }
    }

    private sealed class ListSink(List<Alert> alerts) : IAlertSink
    {
        public void OnAlert(in Alert alert) => alerts.Add(alert);
    }

    private sealed class FixedStates(Dictionary<string, double> cores) : IVmStateSource
    {
        public bool TryGetState(string vmName, long timeNs, out VmResourceState state)
        {
            state = default;
            if (!cores.TryGetValue(vmName, out double c))
            {
                return false;
            }

            var previous = new VmResourceSample(timeNs - Second, VmResourceFields.Cpu, 0, 0, 0, 0);
            var latest = new VmResourceSample(timeNs, VmResourceFields.Cpu, (long)(c * Second), 0, 0, 0);
            state = VmResourceState.FromSamples(in previous, true, in latest, timeNs);
            return true;
        }
    }
}
