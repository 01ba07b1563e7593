// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Tests.Shared;

namespace FlowEngine.Tests.Detection;

/// <summary>
/// The classifier on attack captures that other projects published (shared/corpora/SOURCES.md names each one's
/// attack): rules only, no model, VMs learned, nothing known about the network beforehand. The expected class and
/// attacker come from the corpus' own description; threat-intelligence indicators are the ones those projects list
/// for the capture (nDPI's "Malicious Fingerprint" JA3, the C2 address of the file's description).
/// </summary>
public sealed class PublicCaptureClassificationTests
{
    public static TheoryData<string, string, string, string> Attacks => new()
    {
        { "nfstream/tests/pcaps/synscan.pcap", "scan", "172.16.0.8", string.Empty },
        { "ndpi/tests/cfgs/default/pcap/tcp_scan.pcapng", "scan", "192.168.1.178", string.Empty },
        { "slips/dataset/test12-icmp-portscan.pcap", "scan", "192.168.1.109", string.Empty },
        { "slips/dataset/test7-malicious.pcap", "scan", "192.168.2.16", string.Empty },
        { "stopddos-packet-captures/pkt.TCP.synflood.spoofed.pcap", "dos", string.Empty, string.Empty },
        { "nfstream/tests/pcaps/dns-tunnel-iodine.pcap", "dns_tunnel", "10.0.2.30", string.Empty },
        { "nfstream/tests/pcaps/bad-dns-traffic.pcap", "dns_tunnel", "192.168.43.91", string.Empty },
        { "nfstream/tests/pcaps/dns_exfiltration.pcap", "dns_tunnel", "192.168.220.56", string.Empty },
        { "ndpi/tests/cfgs/default/pcap/dns-exf.pcap", "dns_tunnel", "192.168.2.225", string.Empty },
        { "slips/dataset/test-cc/test-cc-capture-1.pcap", "c2", "147.32.80.37", string.Empty },
        { "slips/dataset/test-cc/test-cc-capture-2.pcap", "c2", "147.32.80.37", string.Empty },
        { "nfstream/tests/pcaps/trickbot.pcap", "malware", "10.12.29.101", "82.118.225.196" },
        { "ndpi/tests/cfgs/default/pcap/emotet.pcap", "malware", "10.4.25.101", "51c64c77e60f3980eea90869b68c58a8" },
        { "ndpi/tests/cfgs/default/pcap/malware.pcap", "malware", "192.168.7.7", "144.139.247.220/32" },
        { "ndpi/tests/cfgs/default/pcap/malware.pcap", "malware", string.Empty, "internetbadguys.com" },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public void AttackCapture_IsNamedWithItsClass(string capture, string expectedClass, string attacker, string indicator)
    {
        List<Alert> alerts = Classify(capture, indicator.Length == 0 ? null : ThreatIntelSet.Of(indicator));
        Assert.Contains(alerts, a => a.Class.ToName() == expectedClass
            && (attacker.Length == 0 || a.Flow.Source.ToString(a.Flow.IpVersion) == attacker || a.Flow.Destination.ToString(a.Flow.IpVersion) == attacker));

        // Most of what is alerted carries the expected class (the rest is named in the message when it fails).
        int right = alerts.Count(a => a.Class.ToName() == expectedClass);
        Assert.True(right * 2 > alerts.Count, $"{capture}: {right} of {alerts.Count} alerted flows are {expectedClass}: " + Summary(alerts));
    }

    public static TheoryData<string> Benign => new()
    {
        "ndpi/tests/cfgs/default/pcap/bot.pcap",
        "zeek/testing/btest/Traces/http/get.pcap",
        "zeek/testing/btest/Traces/tls/tls-conn-with-extensions.pcap",
        "zeek/testing/btest/Traces/wikipedia.pcap",
        "zeek/testing/btest/Traces/ipv6-fragmented-dns.pcap",
        "arkime/tests/pcap/curl-enabled-tls13.pcap",
        "arkime/tests/pcap/v6-http.pcap",
    };

    [Theory]
    [MemberData(nameof(Benign))]
    public void BenignCapture_RaisesNothing(string capture)
    {
        List<Alert> alerts = Classify(capture, null);
        Assert.True(alerts.Count == 0, $"{capture}: " + Summary(alerts));
    }

    private static string Summary(List<Alert> alerts) => string.Join("; ", alerts.GroupBy(a => (a.Class, a.Evidence![0].Rule)).Select(g => $"{g.Key.Class.ToName()} x{g.Count()} ({g.Key.Rule})"));

    internal static List<Alert> Classify(string capture, ThreatIntelSet? intel)
    {
        string path = Path.Combine(Corpora.Directory(), capture);
        Assert.True(File.Exists(path), $"missing corpus file {path}");
        var metadata = new AppMetadataTable();
        var vms = new VmIdentityTable(null);
        var profiles = new ProfileStore();
        var alerts = new List<Alert>();
        var classifier = new FlowClassifier(intel: intel is null ? null : ThreatIntelFeed.Fixed(intel));
        var sink = new FlowClassifierSink(classifier, vms, new ListSink(alerts), metadata, profiles);
        using CaptureFileReader source = CaptureFile.Open(path);
        using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
            sink, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms)));
        pipeline.Run(source);
        return alerts;
    }

    private sealed class ListSink(List<Alert> alerts) : IAlertSink
    {
        public void OnAlert(in Alert alert) => alerts.Add(alert);
    }
}
