// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text.Json;
using FlowEngine.AppLayer;
using FlowEngine.Tests.Capture;

namespace FlowEngine.Tests.AppLayer;

/// <summary>
/// JA3, JA3S, JA4 and the SNI of every TLS session in Arkime's test captures against the values Arkime's own test files
/// expect (arkime/tests/pcap/*.test, sessions3[].body.tls and http.host), including a ClientHello split over segments.
/// </summary>
public class ArkimeTlsTests
{
    public static TheoryData<string> Captures() => new() { "tls13", "curl-enabled-tls13", "openssl-tls1_2", "tls-split-client-hello" };

    [Theory]
    [MemberData(nameof(Captures))]
    public void Fingerprints_MatchArkime(string name)
    {
        string dir = Path.Combine(CaptureTestFiles.CorporaDirectory(), "arkime/tests/pcap");
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, name + ".test")));
        (List<MetadataFlow> flows, _) = MetadataRun.Run(Path.Combine(dir, name + ".pcap"));
        int checkedSessions = 0;
        foreach (JsonElement session in expected.RootElement.GetProperty("sessions3").EnumerateArray())
        {
            JsonElement body = session.GetProperty("body");
            if (!body.TryGetProperty("tls", out JsonElement tls) || !tls.TryGetProperty("ja3", out _))
            {
                continue;
            }

            int port = body.GetProperty("source").GetProperty("port").GetInt32();
            MetadataFlow flow = Assert.Single(flows, f => f.Record.SourcePort == port && f.Record.Protocol == 6);
            Assert.Equal(AppProtocol.Tls, flow.App);
            Assert.Equal(First(tls, "ja3"), flow[AppField.Ja3]);
            Assert.Equal(First(tls, "ja4"), flow[AppField.Ja4]);
            if (tls.TryGetProperty("ja3s", out _))
            {
                Assert.Equal(First(tls, "ja3s"), flow[AppField.Ja3s]);
            }

            // Arkime keeps the SNI of a TLS session in http.host; openssl-tls1_2's hello has none.
            string? sni = body.TryGetProperty("http", out JsonElement http) && http.TryGetProperty("host", out _) ? First(http, "host") : null;
            Assert.Equal(sni, flow[AppField.TlsSni]);
            checkedSessions++;
        }

        Assert.True(checkedSessions > 0, "no TLS session with a ja3 in " + name);
    }

    [Fact]
    public void Ja3String_MatchesArkimeJa3String_ForTheSplitClientHello()
    {
        string dir = Path.Combine(CaptureTestFiles.CorporaDirectory(), "arkime/tests/pcap");
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "tls-split-client-hello.test")));
        JsonElement tls = expected.RootElement.GetProperty("sessions3")[0].GetProperty("body").GetProperty("tls");
        byte[] hello = TlsCorpus.FirstClientHello(Path.Combine(dir, "tls-split-client-hello.pcap"));
        Span<byte> ja3 = stackalloc byte[32];
        Span<byte> ja4 = stackalloc byte[36];
        byte[] text = new byte[4096];
        Assert.True(TlsClientHello.TryFingerprint(hello.AsSpan(4), ja3, ja4, text, out int length));
        Assert.Equal(First(tls, "ja3string"), System.Text.Encoding.ASCII.GetString(text, 0, length));
    }

    private static string First(JsonElement e, string property)
    {
        JsonElement v = e.GetProperty(property);
        return v.ValueKind == JsonValueKind.Array ? v[0].GetString()! : v.GetString()!;
    }
}
