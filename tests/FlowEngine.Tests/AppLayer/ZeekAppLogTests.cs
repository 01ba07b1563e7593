// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Tests.Capture;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.AppLayer;

/// <summary>
/// The application metadata of every Zeek trace in the corpus with a dns.log, http.log or ssl.log baseline (the
/// trace-to-baseline mapping is read from SOURCES.md) against Zeek's rows, matched by the connection's 5-tuple.
/// A flow keeps its first query or request, so Zeek's rows of one connection are a set it must be found in.
/// </summary>
public class ZeekAppLogTests
{
    private static readonly string[] s_logs = ["dns.log", "http.log", "ssl.log"];

    public static TheoryData<string, string> Baselines() => ZeekBaselines.Pairs(b =>
        b.EndsWith("/dns.log", StringComparison.Ordinal) || b.EndsWith("/http.log", StringComparison.Ordinal) || b.EndsWith("/ssl.log", StringComparison.Ordinal));

    [Fact]
    public void Baselines_CoverEveryZeekDnsHttpSslLog()
    {
        string root = CaptureTestFiles.CorporaDirectory();
        var mapped = Baselines().Select(row => (string)row[1]).ToHashSet();
        string[] all = s_logs
            .SelectMany(n => Directory.GetFiles(Path.Combine(root, "zeek/testing/btest/Baseline"), n, SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(root, f)).ToArray();
        Assert.True(all.Length >= 10, $"{all.Length} baselines");
        Assert.All(all, f => Assert.Contains(f, mapped));
    }

    [Theory]
    [MemberData(nameof(Baselines))]
    public void Metadata_MatchZeekLog(string capture, string baseline)
    {
        string root = CaptureTestFiles.CorporaDirectory();
        List<Dictionary<string, string>> rows = ReadLog(Path.Combine(root, baseline));
        Assert.NotEmpty(rows);
        (List<MetadataFlow> flows, _) = MetadataRun.Run(Path.Combine(root, capture));
        var byKey = flows.GroupBy(f => f.Key).ToDictionary(g => g.Key, g => g.ToList());
        string kind = Path.GetFileName(baseline);
        var problems = new List<string>();
        foreach (IGrouping<string, Dictionary<string, string>> connection in rows.GroupBy(KeyOf))
        {
            // Named difference 1: Teredo (RFC 4380, addresses in 2001:0::/32) is a tunnel FlowEngine does not open, so
            // the IPv6 connections inside it are not flows of their own; the tunnel's UDP flows on port 3544 are.
            if (connection.Key.StartsWith("2001:0:", StringComparison.Ordinal))
            {
                Assert.Contains(flows, f => f.Record.Protocol == 17 && (f.Record.SourcePort == 3544 || f.Record.DestinationPort == 3544));
                continue;
            }

            // Named difference 2: Zeek reads the TLS handshake of QUIC (ssl.log rows of UDP connections); FlowEngine
            // does not decrypt QUIC's Initial packets, so that flow carries no TLS metadata.
            string udp = connection.Key[..connection.Key.LastIndexOf('/')] + "/17";
            if (kind == "ssl.log" && byKey.TryGetValue(udp, out List<MetadataFlow>? quic))
            {
                Assert.All(quic, q => Assert.Equal(AppProtocol.Unknown, q.App));
                continue;
            }

            if (!byKey.TryGetValue(connection.Key, out List<MetadataFlow>? ours))
            {
                problems.Add($"{connection.Key}: no flow");
                continue;
            }

            string? problem = kind switch
            {
                "dns.log" => CheckDns(connection.ToList(), ours),
                "http.log" => CheckHttp(connection.ToList(), ours),
                _ => CheckSsl(connection.ToList(), ours),
            };
            if (problem is not null)
            {
                problems.Add($"{connection.Key}: {problem}");
            }
        }

        Assert.True(problems.Count == 0, $"{baseline}: {problems.Count} of {rows.GroupBy(KeyOf).Count()} connections differ:\n" + string.Join("\n", problems.Take(20)));
    }

    // Every query of ours is one of Zeek's for that connection, with its type, and a response code Zeek gave it.
    private static string? CheckDns(List<Dictionary<string, string>> zeek, List<MetadataFlow> ours)
    {
        foreach (MetadataFlow f in ours)
        {
            if (f.App != AppProtocol.Dns)
            {
                return $"labelled {f.App}";
            }

            // Named difference 3: Zeek writes DNS names in lower case (names compare without case); FlowEngine keeps
            // the case on the wire, which DNS-tunnel detection reads. So names are compared without case.
            // Named difference 4: Zeek decodes NetBIOS name service names (UDP 137, RFC 1002 §4.1 first-level
            // encoding); FlowEngine keeps the encoded label, decoded here for the comparison.
            string query = f[AppField.DnsQuery] ?? "-";
            if (f.Record.DestinationPort == 137 || f.Record.SourcePort == 137)
            {
                query = NetBiosName(query);
            }

            List<Dictionary<string, string>> same = zeek.Where(r => string.Equals(r["query"], query, StringComparison.OrdinalIgnoreCase)).ToList();
            if (same.Count == 0)
            {
                return $"query '{query}' not among Zeek's [{string.Join(", ", zeek.Select(r => r["query"]))}]";
            }

            if (!same.Any(r => r["qtype"] == "-" || r["qtype"] == f.DnsQueryType.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                return $"qtype {f.DnsQueryType} for '{query}', Zeek [{string.Join(", ", same.Select(r => r["qtype"]))}]";
            }

            string rcode = f.DnsResponseCode < 0 ? "-" : f.DnsResponseCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!same.Any(r => r["rcode"] == rcode))
            {
                return $"rcode {rcode} for '{query}', Zeek [{string.Join(", ", same.Select(r => r["rcode"]))}]";
            }
        }

        return null;
    }

    // The first request of the connection in Zeek's log is ours: method, host, URI, user agent and status.
    private static string? CheckHttp(List<Dictionary<string, string>> zeek, List<MetadataFlow> ours)
    {
        Dictionary<string, string> first = zeek[0];
        MetadataFlow? f = ours.FirstOrDefault(o => o.App == AppProtocol.Http);
        if (f is null)
        {
            return $"labelled [{string.Join(", ", ours.Select(o => o.App))}]";
        }

        // Named difference 5: an HTTP/0.9 reply has no status line; Zeek logs its status as 0, FlowEngine as absent.
        string status = f.HttpStatus == 0 ? (first["status_code"] == "0" && first["version"] is "0.9" ? "0" : "-") : f.HttpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture);
        (string Field, string? Ours, string Zeek)[] fields =
        [
            ("method", f[AppField.HttpMethod], first["method"]),
            ("host", f[AppField.HttpHost], first["host"]),
            ("uri", f[AppField.HttpUri], first["uri"]),
            ("user_agent", f[AppField.HttpUserAgent], first["user_agent"]),
            ("status_code", status, first["status_code"]),
        ];
        foreach ((string field, string? mine, string theirs) in fields)
        {
            if ((mine ?? "-") != theirs)
            {
                return $"{field} '{mine}' where Zeek has '{theirs}'";
            }
        }

        return null;
    }

    private static string? CheckSsl(List<Dictionary<string, string>> zeek, List<MetadataFlow> ours)
    {
        Dictionary<string, string> first = zeek[0];
        MetadataFlow? f = ours.FirstOrDefault(o => o.App == AppProtocol.Tls);
        if (f is null)
        {
            return $"labelled [{string.Join(", ", ours.Select(o => o.App))}]";
        }

        if ((f[AppField.TlsSni] ?? "-") != first["server_name"])
        {
            return $"server_name '{f[AppField.TlsSni]}' where Zeek has '{first["server_name"]}'";
        }

        string version = f.TlsVersion switch
        {
            0x0301 => "TLSv10",
            0x0302 => "TLSv11",
            0x0303 => "TLSv12",
            0x0304 => "TLSv13",
            0 => "-",
            _ => "other",
        };
        return version == first["version"] ? null : $"version {version} (0x{f.TlsVersion:x4}) where Zeek has {first["version"]}";
    }

    // The first-level encoding: 32 letters A-P, two per byte (high nibble first), 16 bytes whose last is the name's
    // type suffix and whose others are the name padded with spaces.
    private static string NetBiosName(string encoded)
    {
        string label = encoded.Split('.')[0];
        if (label.Length != 32 || label.Any(c => c is < 'A' or > 'P'))
        {
            return encoded;
        }

        var bytes = new char[15];
        for (int i = 0; i < 15; i++)
        {
            bytes[i] = (char)(((label[2 * i] - 'A') << 4) | (label[(2 * i) + 1] - 'A'));
        }

        return new string(bytes).TrimEnd(' ');
    }

    private static string KeyOf(Dictionary<string, string> r)
    {
        string proto = r.TryGetValue("proto", out string? p) ? p : "tcp";
        int number = proto switch { "udp" => 17, "icmp" => 1, _ => 6 };
        return $"{r["id.orig_h"]}:{r["id.orig_p"]}>{r["id.resp_h"]}:{r["id.resp_p"]}/{number}";
    }

    private static List<Dictionary<string, string>> ReadLog(string path)
    {
        string[]? fields = null;
        var rows = new List<Dictionary<string, string>>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith("#fields\t", StringComparison.Ordinal))
            {
                fields = line.Split('\t')[1..];
            }
            else if (fields is not null && line.Length > 0 && line[0] != '#')
            {
                string[] values = line.Split('\t');
                var row = new Dictionary<string, string>();
                for (int i = 0; i < fields.Length && i < values.Length; i++)
                {
                    row[fields[i]] = values[i];
                }

                rows.Add(row);
            }
        }

        return rows;
    }
}
