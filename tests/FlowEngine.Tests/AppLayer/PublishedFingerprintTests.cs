// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Tests.Capture;

namespace FlowEngine.Tests.AppLayer;

/// <summary>
/// JA3 and JA4 through the whole pipeline against values other projects publish for the corpus: Suricata's
/// tls13-draft28 test (test.yaml's tls.ja3.hash) and nDPI's default-configuration results (the .out files' JA3C and JA4).
/// </summary>
public class PublishedFingerprintTests
{
    public static TheoryData<string, int, int, string, string?> Flows() => new()
    {
        // suricata-verify/tests/tls/tls13-draft28/test.yaml.
        { "suricata-verify/tests/tls/tls13-draft28/tls13_draft28.pcap", 39634, 4433, "d00857e0c8e7a7f35e446508c6233460", null },
        { "suricata-verify/tests/tls/tls13-draft28/tls13_draft28.pcap", 39632, 4433, "43202faa1c8c1760d6f7f4bd9adde4ab", null },

        // ndpi/tests/cfgs/default/result/malware.pcap.out.
        { "ndpi/tests/cfgs/default/pcap/malware.pcap", 41240, 443, "9a7f6a45c84d90c9e8baecb0c9ae8dff", "t13d1515h2_8daaf6152771_6a09c78d0dc2" },
        { "ndpi/tests/cfgs/default/pcap/malware.pcap", 35236, 443, "b20b44b18b853ef29ab773e921b03422", "t13d1814h2_29a2cd9e9f10_d267a5f792d4" },
    };

    [Theory]
    [MemberData(nameof(Flows))]
    public void Fingerprints_MatchPublishedValues(string capture, int sourcePort, int destinationPort, string ja3, string? ja4)
    {
        (List<MetadataFlow> flows, _) = MetadataRun.Run(Path.Combine(CaptureTestFiles.CorporaDirectory(), capture));
        MetadataFlow flow = Assert.Single(flows, f => f.Record.SourcePort == sourcePort && f.Record.DestinationPort == destinationPort);
        Assert.Equal(AppProtocol.Tls, flow.App);
        Assert.Equal(ja3, flow[AppField.Ja3]);
        if (ja4 is not null)
        {
            Assert.Equal(ja4, flow[AppField.Ja4]);
        }
    }
}
