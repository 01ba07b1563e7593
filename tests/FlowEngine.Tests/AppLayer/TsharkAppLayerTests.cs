// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Packets;
using FlowEngine.Tests.Capture;
using FlowEngine.Tests.Infrastructure;
using FlowEngine.Tests.Packets;

namespace FlowEngine.Tests.AppLayer;

/// <summary>
/// The parsers frame by frame on every corpus capture against tshark's fields for the same frame: DNS query name,
/// type, response code and answer count; HTTP method, host and URI; TLS SNI and JA3 of ClientHellos whole in one frame.
/// </summary>
public class TsharkAppLayerTests
{
    private static readonly string[] s_fields =
    [
        "frame.number", "udp.srcport", "dns.qry.name", "dns.qry.type", "dns.flags.rcode", "dns.count.answers", "dns.flags.response",
        "http.request.method", "http.host", "http.request.uri", "tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.ja3", "icmp.type", "icmpv6.type",
    ];

    [Theory]
    [MemberData(nameof(TsharkAgreementTests.Captures), MemberType = typeof(TsharkAgreementTests))]
    public void Parsers_AgreeWithTshark(string relativePath)
    {
        string path = Path.Combine(CaptureTestFiles.CorporaDirectory(), relativePath);
        var tshark = Tshark.Fields(path, '\t', s_fields).ToDictionary(r => int.Parse(r[0], CultureInfo.InvariantCulture));
        var decoder = new PacketDecoder();
        var batch = new PacketBatch(256);
        var problems = new List<string>();
        int frameNumber = 0;
        using CaptureFileReader reader = CaptureFile.Open(path);
        try
        {
            while (reader.ReadBatch(batch))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    frameNumber++;
                    if (!tshark.TryGetValue(frameNumber, out string[]? t))
                    {
                        continue;
                    }

                    ReadOnlySpan<byte> frame = batch.GetFrame(i);
                    DecodedPacket p = default;
                    if (!decoder.Decode(frame, batch.GetLinkType(i), ref p) || (p.Flags & PacketFlags.HasTransport) == 0 || p.PayloadLength <= 0 || p.PayloadOffset >= frame.Length
                        || (p.Flags & PacketFlags.Fragment) != 0)
                    {
                        continue;
                    }

                    // tshark also opens DNS and HTTP quoted inside ICMP errors and tunnels FlowEngine counts as the
                    // outer flow (Teredo): frames where FlowEngine's innermost transport is not tshark's are not compared.
                    if (t[13].Length > 0 || t[14].Length > 0)
                    {
                        continue;
                    }

                    ReadOnlySpan<byte> payload = frame.Slice(p.PayloadOffset, Math.Min(p.PayloadLength, frame.Length - p.PayloadOffset));
                    string? problem = CompareDns(p, payload, t) ?? CompareHttp(payload, t) ?? CompareTls(payload, t);
                    if (problem is not null)
                    {
                        problems.Add($"frame {frameNumber}: {problem}");
                    }
                }
            }
        }
        catch (CaptureFormatException)
        {
            // Damaged captures: the frames before the damage were compared.
        }

        Assert.True(problems.Count == 0, $"{relativePath}: {problems.Count} frames differ:\n" + string.Join("\n", problems.Take(15)));
    }

    private static string? CompareDns(in DecodedPacket p, ReadOnlySpan<byte> payload, string[] t)
    {
        // One DNS message per UDP datagram with its question (tshark names no query for mDNS announcements, which have
        // none, and gives several values when a datagram holds several names: the first is compared).
        if (t[2].Length == 0 || p.Protocol != 17 || t[1].Length == 0)
        {
            return null;
        }

        Span<byte> name = stackalloc byte[512];
        if (!DnsParser.TryParse(payload, name, out DnsMessageInfo info))
        {
            return $"DNS '{t[2]}' not parsed";
        }

        string ours = Encoding.ASCII.GetString(name[..info.QueryNameLength]);
        string theirs = t[2].Split(',')[0];

        // Named difference: bytes outside printable ASCII are \xNN here (as in Zeek's logs); tshark prints its own escapes.
        if (!ours.Contains("\\x", StringComparison.Ordinal) && ours != theirs && !(theirs == "<Root>" && ours.Length == 0))
        {
            return $"query '{ours}' where tshark has '{theirs}'";
        }

        string type = t[3].Split(',')[0];
        if (type.Length > 0 && type != info.QueryType.ToString(CultureInfo.InvariantCulture))
        {
            return $"qtype {info.QueryType} where tshark has {type}";
        }

        if (t[4].Length > 0 && t[4] != info.ResponseCode.ToString(CultureInfo.InvariantCulture))
        {
            return $"rcode {info.ResponseCode} where tshark has {t[4]}";
        }

        return t[5].Length > 0 && t[5] != info.AnswerCount.ToString(CultureInfo.InvariantCulture) ? $"answers {info.AnswerCount} where tshark has {t[5]}" : null;
    }

    private static string? CompareHttp(ReadOnlySpan<byte> payload, string[] t)
    {
        // A request head whole in this frame (tshark reports a reassembled request on its last segment).
        if (t[7].Length == 0 || t[7].Contains(',', StringComparison.Ordinal) || !HttpParser.LooksLikeRequest(payload))
        {
            return null;
        }

        if (!HttpParser.TryParseRequest(payload, out HttpRequestInfo r))
        {
            return $"HTTP {t[7]} not parsed";
        }

        string method = Encoding.ASCII.GetString(r.Method.Of(payload));
        string host = Encoding.ASCII.GetString(r.Host.Of(payload));
        string uri = Encoding.ASCII.GetString(r.Uri.Of(payload));
        // Named difference: a request target with spaces in it (attacks send them) is cut by tshark at the first space;
        // FlowEngine keeps it up to the " HTTP/" of the version, so tshark's is then the part before the first space.
        bool sameUri = uri == t[9] || (uri.Contains(' ', StringComparison.Ordinal) && uri[..uri.IndexOf(' ', StringComparison.Ordinal)] == t[9]);
        if (method != t[7] || (t[8].Length > 0 && r.HeadersComplete && host != t[8]) || (t[9].Length > 0 && !sameUri))
        {
            return $"HTTP {method} {host} {uri} where tshark has {t[7]} {t[8]} {t[9]}";
        }

        return null;
    }

    private static string? CompareTls(ReadOnlySpan<byte> payload, string[] t)
    {
        if (!t[10].Split(',').Contains("1") || t[12].Length == 0)
        {
            return null;
        }

        byte[] message = new byte[1 << 16];
        if (!TlsRecordReader.TryReadHandshake(payload, message, out TlsHandshake h) || !h.IsComplete || h.Type != 1)
        {
            // The hello spans frames here; tshark reassembled it.
            return null;
        }

        ReadOnlySpan<byte> body = message.AsSpan(4, h.Written - 4);
        Assert.True(TlsClientHello.TryParse(body, out TlsClientHelloInfo info));
        Span<byte> ja3 = stackalloc byte[32];
        Span<byte> ja4 = stackalloc byte[36];
        if (!TlsClientHello.TryFingerprint(body, ja3, ja4, default, out _))
        {
            return "ClientHello not fingerprinted";
        }

        string sni = Encoding.ASCII.GetString(info.ServerName.Of(body));
        string ours = Encoding.ASCII.GetString(ja3);
        return sni != t[11] || ours != t[12] ? $"TLS sni '{sni}' ja3 {ours} where tshark has '{t[11]}' {t[12]}" : null;
    }
}
