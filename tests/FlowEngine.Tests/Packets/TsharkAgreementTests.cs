// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using FlowEngine.Capture;
using FlowEngine.Packets;
using FlowEngine.Tests.Capture;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Packets;

/// <summary>
/// Packet-level decode of every corpus capture (selected by MANIFEST.tsv's kind column) against tshark: the
/// innermost IP addresses, transport ports, protocol and VNI of every packet tshark decodes; and packets whose
/// link, network or transport header tshark finds malformed must be rejected, not mis-decoded.
/// </summary>
public class TsharkAgreementTests
{
    // tshark's expert severity "error" (PI_ERROR).
    private const string ErrorSeverity = "8388608";

    // Layers FlowEngine decodes itself; malformation reported in one of these must be a rejection.
    private static readonly HashSet<string> s_ownLayers =
    [
        "eth", "ethertype", "vlan", "ieee8021ad", "sll", "null", "loop", "raw", "ip", "ipv6", "ipv6.hopopts", "ipv6.routing",
        "ipv6.fraghdr", "ipv6.dstopts", "ah", "tcp", "udp", "icmp", "icmpv6", "gre", "vxlan", "geneve", "mpls", "pppoes", "ppp",
        "erspan", "sctp",
    ];

    // Encapsulations tshark opens that FlowEngine counts as the outer packet, by design (not virtual-network tunnels).
    private static readonly Dictionary<string, string> s_undecodedTunnels = new()
    {
        ["teredo"] = "Teredo (IPv6 over UDP 3544) is a host transition mechanism, not a virtual network; counted as UDP",
        ["l2tp"] = "L2TP is counted as the outer UDP flow",
        ["gtp"] = "GTP is counted as the outer UDP flow",
        ["capwap.data"] = "CAPWAP is counted as the outer UDP flow",
        ["ayiya"] = "AYIYA is counted as the outer UDP flow",
        ["udpencap"] = "UDP-encapsulated IPsec is counted as the outer UDP flow",
        ["esp"] = "ESP payload is encrypted",
        ["nsh"] = "NSH service chains are counted as the outer packet",
        ["cflow"] = "NetFlow export datagrams carry records, not packets",
        ["openvpn"] = "OpenVPN is counted as the outer UDP flow",
        ["wg"] = "WireGuard is counted as the outer UDP flow",
        ["dns"] = "IP addresses inside DNS records are data",
        ["cmd"] = "Cisco MetaData inside GRE is not decapsulated; counted as the outer GRE packet",
    };

    public static TheoryData<string> Captures()
    {
        var data = new TheoryData<string>();
        foreach (var c in CaptureTestFiles.CorpusCaptures())
        {
            data.Add(Path.GetRelativePath(CaptureTestFiles.CorporaDirectory(), c.Path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void Decode_AgreesWithTshark(string relativePath)
    {
        string path = Path.Combine(CaptureTestFiles.CorporaDirectory(), relativePath);
        List<string[]> expected = Tshark.Fields(
            path,
            "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
            "vxlan.vni", "geneve.vni", "gre.key", "sctp.srcport", "sctp.dstport", "_ws.expert.severity");
        var decoder = new PacketDecoder();
        var problems = new List<string>();
        int index = 0;
        int compared = 0;
        var batch = new PacketBatch(64);
        using (var source = CaptureFile.Open(path))
        {
            try
            {
                while (source.ReadBatch(batch))
                {
                    for (int i = 0; i < batch.Count; i++, index++)
                    {
                        DecodedPacket p = default;
                        p.WireLength = batch.GetWireLength(i);
                        decoder.Decode(batch.GetFrame(i), batch.GetLinkType(i), ref p);
                        if (index >= expected.Count)
                        {
                            problems.Add($"packet {index + 1}: tshark printed no row");
                            continue;
                        }

                        string? problem = Compare(expected[index], in p, out bool wasCompared);
                        if (wasCompared)
                        {
                            compared++;
                        }

                        if (problem is not null)
                        {
                            problems.Add($"packet {index + 1}: {problem}");
                        }
                    }
                }
            }
            catch (CaptureFormatException)
            {
                // A damaged file: the packets before the damage were compared; tshark stops at the same place.
            }
        }

        Assert.True(problems.Count == 0, $"{relativePath}: {problems.Count} disagreements (of {index} packets, {compared} compared):\n" + string.Join("\n", problems.Take(20)));
    }

    private static string? Compare(string[] row, in DecodedPacket p, out bool compared)
    {
        compared = false;
        string[] layers = row[0].Split(':');
        int malformedAt = Array.IndexOf(layers, "_ws.malformed");
        if (malformedAt > 0 && s_ownLayers.Contains(layers[malformedAt - 1]))
        {
            return p.Reject == RejectReason.None ? $"tshark finds {layers[malformedAt - 1]} malformed ({row[0]}), FlowEngine decoded it" : null;
        }

        // The IP layers tshark opened, in order, up to the first ICMP (whose quoted header is data).
        var ipLayers = new List<(string Kind, int Occurrence, int Position)>();
        int ip4 = 0, ip6 = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            if (layers[i] is "icmp" or "icmpv6")
            {
                break;
            }

            if (layers[i] == "ip")
            {
                ipLayers.Add(("ip", ip4++, i));
            }
            else if (layers[i] == "ipv6")
            {
                ipLayers.Add(("ipv6", ip6++, i));
            }
        }

        if (ipLayers.Count == 0)
        {
            return p.Reject == RejectReason.None ? $"FlowEngine decoded IP where tshark saw none ({row[0]})" : null;
        }

        if (p.Reject != RejectReason.None)
        {
            // Agreement: tshark reports an error in the packet; the snap length cut a header both tools need;
            // or the innermost frame is not IP (ARP inside VXLAN, ...) and is counted as NonIp.
            if (row[14].Split(',').Contains(ErrorSeverity))
            {
                return null;
            }

            if (p.Reject == RejectReason.Truncated && p.CapturedLength < p.WireLength)
            {
                return null;
            }

            int lastEthernet = Array.LastIndexOf(layers, "eth");
            if (p.Reject == RejectReason.NonIp && lastEthernet >= 0 && !layers.Skip(lastEthernet).Any(l => l is "ip" or "ipv6"))
            {
                return null;
            }

            // The IP header names TCP/UDP but leaves no room for its header: tshark stops at IP, FlowEngine rejects
            // (Suricata raises its "too small" decoder events on the same packets).
            if (p.Reject == RejectReason.BadTotalLength && ipLayers[^1].Position == layers.Length - 1)
            {
                return null;
            }

            return $"rejected as {p.Reject}, tshark decoded {row[0]}";
        }

        int depth = p.TunnelDepth;
        if (depth >= ipLayers.Count)
        {
            return $"FlowEngine removed {depth} tunnels, tshark only {ipLayers.Count - 1} ({row[0]})";
        }

        if (depth < ipLayers.Count - 1)
        {
            // tshark went deeper: allowed only through an encapsulation FlowEngine counts as the outer packet.
            int next = ipLayers[depth + 1].Position;
            string? reason = null;
            for (int i = ipLayers[depth].Position + 1; i < next && reason is null; i++)
            {
                s_undecodedTunnels.TryGetValue(layers[i], out reason);
            }

            if (reason is null)
            {
                return $"tshark decoded {ipLayers.Count - 1} tunnels, FlowEngine {depth} ({row[0]})";
            }
        }

        compared = true;
        var (kind, occurrence, position) = ipLayers[depth];
        string src = Pick(row[kind == "ip" ? 1 : 3], occurrence);
        string dst = Pick(row[kind == "ip" ? 2 : 4], occurrence);
        int version = kind == "ip" ? 4 : 6;
        if (p.IpVersion != version || !IPAddress.Parse(src).Equals(p.Source.ToIPAddress(p.IpVersion)) || !IPAddress.Parse(dst).Equals(p.Destination.ToIPAddress(p.IpVersion)))
        {
            return $"innermost IP {p.Source.ToString(p.IpVersion)} -> {p.Destination.ToString(p.IpVersion)}, tshark {src} -> {dst}";
        }

        // The transport layer right after the innermost IP (and its extension headers).
        for (int i = position + 1; i < layers.Length; i++)
        {
            string layer = layers[i];
            if (layer.StartsWith("ipv6.", StringComparison.Ordinal) || layer == "ah")
            {
                continue;
            }

            int column = layer switch { "tcp" => 5, "udp" => 7, "sctp" => 12, _ => -1 };
            if (column < 0)
            {
                break;
            }

            int nth = layers.Take(i).Count(l => l == layer);
            string sport = Pick(row[column], nth);
            string dport = Pick(row[column + 1], nth);
            if (!p.HasTransport)
            {
                if ((p.Flags & PacketFlags.NonFirstFragment) != 0)
                {
                    break;
                }

                return $"no {layer} header decoded, tshark {sport} -> {dport}";
            }

            if (p.SourcePort.ToString(System.Globalization.CultureInfo.InvariantCulture) != sport || p.DestinationPort.ToString(System.Globalization.CultureInfo.InvariantCulture) != dport)
            {
                return $"{layer} ports {p.SourcePort} -> {p.DestinationPort}, tshark {sport} -> {dport}";
            }

            break;
        }

        // The innermost virtual network identifier tshark saw before the innermost IP header.
        string? vni = null;
        foreach ((string layer, int column, VirtualNetworkKind vnKind) in new[] { ("vxlan", 9, VirtualNetworkKind.Vxlan), ("geneve", 10, VirtualNetworkKind.Geneve) })
        {
            int count = layers.Take(position).Count(l => l == layer);
            if (count > 0 && p.VnKind == vnKind)
            {
                vni = Pick(row[column], count - 1);
            }
        }

        if (vni is not null && ParseNumber(vni) != p.VnId)
        {
            return $"VNI {p.VnId}, tshark {vni}";
        }

        return null;
    }

    private static uint ParseNumber(string text) => text.StartsWith("0x", StringComparison.Ordinal)
        ? uint.Parse(text.AsSpan(2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)
        : uint.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static string Pick(string aggregated, int occurrence)
    {
        string[] values = aggregated.Split(',');
        return occurrence < values.Length ? values[occurrence] : string.Empty;
    }
}
