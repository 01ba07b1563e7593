// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Tests.Capture;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Flows;

/// <summary>
/// The flows of every Zeek trace in the corpus that has a conn.log baseline (the trace-to-baseline mapping is read
/// from SOURCES.md) against Zeek's rows: 5-tuple, packets and IP bytes per direction, tunnel association.
/// Legitimate differences are named below and asserted precisely.
/// </summary>
public class ZeekConnLogTests
{
    public static TheoryData<string, string> Baselines() => ZeekBaselines.Pairs(b =>
        b.EndsWith("/conn.log", StringComparison.Ordinal) || b.EndsWith("/conn.log.cut", StringComparison.Ordinal));

    [Fact]
    public void Baselines_CoverEveryZeekConnLog()
    {
        string root = CaptureTestFiles.CorporaDirectory();
        var mapped = Baselines().Select(row => (string)row[1]).ToHashSet();
        string[] all = Directory.GetFiles(Path.Combine(root, "zeek/testing/btest/Baseline"), "conn.log*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f)).ToArray();
        Assert.NotEmpty(all);
        Assert.All(all, f => Assert.Contains(f, mapped));
    }

    [Theory]
    [MemberData(nameof(Baselines))]
    public void Flows_MatchZeekConnLog(string capture, string baseline)
    {
        string root = CaptureTestFiles.CorporaDirectory();
        List<ZeekRow> zeek = ZeekRow.Read(Path.Combine(root, baseline));
        Assert.NotEmpty(zeek);
        // Zeek's default key ignores VLANs; the vlan_fivetuple conn_key policy adds them (and logs id.ctx.vlan).
        bool vlanAwareKey = File.ReadLines(Path.Combine(root, baseline)).Any(l => l.Contains("id.ctx.vlan", StringComparison.Ordinal));
        var records = new List<FlowRecord>();
        var pipeline = new FlowPipeline(FlowSink.ToList(records));
        using (CaptureFileReader source = CaptureFile.Open(Path.Combine(root, capture)))
        {
            pipeline.Run(source);
        }

        var problems = new List<string>();
        var tunnelParents = zeek.SelectMany(r => r.TunnelParents).ToHashSet();
        bool IsTeredo(ZeekRow r) => r.Service == "teredo" || (r.Proto == "udp" && (r.RespP == 3544 || r.OrigP == 3544));
        var groups = new Dictionary<string, Group>();
        foreach (ZeekRow row in zeek)
        {
            // Named difference 1: Zeek logs the UDP flow that carries a VXLAN, Geneve or GRE-in-UDP tunnel as a
            // connection of its own; FlowEngine accounts those packets only to the inner flows, so it has no flow
            // with that 5-tuple (asserted below). Teredo is not opened by FlowEngine (see TsharkAgreementTests),
            // so its UDP flow is compared like any other.
            bool tunnelRow = !IsTeredo(row) && (tunnelParents.Contains(row.Uid) || row.Service is "vxlan" or "geneve"
                || (row.Proto == "udp" && row.RespP is 4789 or 6081 or 4754));
            if (tunnelRow)
            {
                if (row.HasTuple && records.Any(r => row.Matches(r, out _)))
                {
                    problems.Add($"FlowEngine has a flow for the tunnel's own UDP flow {row}");
                }

                continue;
            }

            // Named difference 2: rows inside Teredo are inside a tunnel FlowEngine does not open.
            if (row.TunnelParents.Length > 0 && row.TunnelParents.All(p => zeek.Any(z => z.Uid == p && IsTeredo(z))))
            {
                continue;
            }

            string key = row.HasTuple ? row.GroupKey(vlanAwareKey) : "all";
            if (!groups.TryGetValue(key, out Group? g))
            {
                groups[key] = g = new Group();
            }

            g.Zeek.Add(row);
        }

        var matched = new HashSet<int>();
        foreach ((string key, Group g) in groups)
        {
            ZeekRow first = g.Zeek[0];
            var ours = new List<int>();
            for (int i = 0; i < records.Count; i++)
            {
                if (key != "all" && first.Matches(records[i], out _) && (!vlanAwareKey || first.VlanMatches(records[i])))
                {
                    ours.Add(i);
                }
            }

            if (key == "all")
            {
                // A projection without addresses (zeek-cut of uid/history/service only): the number of flows.
                int flows = records.Count(r => !zeek.Any(z => z.HasTuple && z.Matches(r, out _)));
                if (flows != g.Zeek.Count)
                {
                    problems.Add($"{flows} flows, Zeek {g.Zeek.Count} rows");
                }

                continue;
            }

            if (ours.Count == 0)
            {
                problems.Add($"no flow for Zeek row {first}");
                continue;
            }

            matched.UnionWith(ours);

            // Named difference 3: Zeek's key is the 5-tuple (ICMP: addresses, type, counterpart type); FlowEngine's
            // adds the virtual network and the ICMP identifier, and keeps packets after a RST or a DNS reply in
            // the same flow where Zeek may start a new connection (Zeek's tcp_reset_delay and DNS handling).
            // Named difference 4: Zeek flips the originator by heuristics (known server ports); FlowEngine takes the
            // sender of the first packet (of the SYN for TCP).
            // Both change how packets are split into rows and directions, not how many there are: per 5-tuple the
            // packets and IP bytes sent by each endpoint must be equal.
            if (g.Zeek.All(z => z.OrigPkts is not null))
            {
                (ulong ap, ulong ab, ulong bp, ulong bb) zeekSums = default, ourSums = default;
                foreach (ZeekRow z in g.Zeek)
                {
                    bool origIsA = z.OrigIsA;
                    zeekSums = Add(zeekSums, origIsA, z.OrigPkts!.Value, z.OrigIpBytes ?? 0, z.RespPkts!.Value, z.RespIpBytes ?? 0);
                }

                foreach (int i in ours)
                {
                    FlowRecord r = records[i];
                    bool sourceIsA = first.IsEndpointA(r.SourceAddress.ToIPAddress(r.IpVersion), r.SourcePort);
                    // Projections with packet counts only compare packets.
                    bool bytes = g.Zeek.All(z => z.OrigIpBytes is not null);
                    ourSums = Add(ourSums, sourceIsA, r.ForwardPackets, bytes ? r.ForwardBytes : 0, r.ReversePackets, bytes ? r.ReverseBytes : 0);
                }

                if (zeekSums != ourSums)
                {
                    problems.Add($"counts differ for {first} ({g.Zeek.Count} rows): Zeek A->B {zeekSums.ap}/{zeekSums.ab} B->A {zeekSums.bp}/{zeekSums.bb}, FlowEngine ({ours.Count} flows) A->B {ourSums.ap}/{ourSums.ab} B->A {ourSums.bp}/{ourSums.bb}");
                }
            }

            bool zeekTunnelled = g.Zeek.Any(z => z.TunnelParents.Length > 0);
            if (g.Zeek.Any(z => z.HasTunnelColumn) && ours.Any(i => records[i].TunnelDepth > 0 != zeekTunnelled))
            {
                problems.Add($"tunnel association differs for {first}");
            }
        }

        // Every FlowEngine flow corresponds to a Zeek row.
        if (!groups.ContainsKey("all"))
        {
            for (int i = 0; i < records.Count; i++)
            {
                if (!matched.Contains(i))
                {
                    FlowRecord r = records[i];
                    problems.Add($"extra flow {r.Protocol} {r.SourceAddress.ToString(r.IpVersion)}:{r.SourcePort} -> {r.DestinationAddress.ToString(r.IpVersion)}:{r.DestinationPort} {r.ForwardPackets}/{r.ForwardBytes} -> {r.ReversePackets}/{r.ReverseBytes} vn={r.VirtualNetwork}");
                }
            }
        }

        Assert.True(problems.Count == 0, $"{capture} vs {baseline} ({zeek.Count} Zeek rows, {records.Count} flows):\n" + string.Join("\n", problems));
    }

    private static (ulong, ulong, ulong, ulong) Add((ulong Ap, ulong Ab, ulong Bp, ulong Bb) sums, bool senderIsA, ulong sentPackets, ulong sentBytes, ulong receivedPackets, ulong receivedBytes)
        => senderIsA
            ? (sums.Ap + sentPackets, sums.Ab + sentBytes, sums.Bp + receivedPackets, sums.Bb + receivedBytes)
            : (sums.Ap + receivedPackets, sums.Ab + receivedBytes, sums.Bp + sentPackets, sums.Bb + sentBytes);

    private sealed class Group
    {
        public List<ZeekRow> Zeek { get; } = [];
    }

    private sealed class ZeekRow
    {
        public string Uid { get; private init; } = "-";

        public string Proto { get; private init; } = "-";

        public string Service { get; private init; } = "-";

        public IPAddress? OrigH { get; private init; }

        public int OrigP { get; private init; }

        public IPAddress? RespH { get; private init; }

        public int RespP { get; private init; }

        public ulong? OrigPkts { get; private init; }

        public ulong? OrigIpBytes { get; private init; }

        public ulong? RespPkts { get; private init; }

        public ulong? RespIpBytes { get; private init; }

        public string[] TunnelParents { get; private init; } = [];

        public bool HasTunnelColumn { get; private init; }

        public string? Vlan { get; private init; }

        public string? InnerVlan { get; private init; }

        public bool HasTuple => OrigH is not null && RespH is not null;

        // Endpoint A is the lower (address, port) of the two, as in FlowEngine's key.
        public bool OrigIsA => IsEndpointA(OrigH!, OrigP);

        public static List<ZeekRow> Read(string path)
        {
            string[] fields = [];
            var rows = new List<ZeekRow>();
            bool cutHeaderPending = path.EndsWith(".cut", StringComparison.Ordinal);
            foreach (string line in File.ReadLines(path))
            {
                if (line.StartsWith("#fields\t", StringComparison.Ordinal))
                {
                    fields = line.Split('\t')[1..];
                    cutHeaderPending = false;
                    continue;
                }

                if (line.StartsWith('#') || line.Length == 0)
                {
                    continue;
                }

                string[] cells = line.Split('\t');
                if (cutHeaderPending)
                {
                    cutHeaderPending = false;
                    if (!IPAddress.TryParse(cells[0], out _))
                    {
                        // zeek-cut -m: a plain header line naming the columns. The max-depth baseline names
                        // id.orig_p "id.resp_p" as well; the first of the two is the originator's port.
                        fields = cells;
                        int first = Array.IndexOf(fields, "id.resp_p");
                        if (first >= 0 && Array.LastIndexOf(fields, "id.resp_p") != first && !fields.Contains("id.orig_p"))
                        {
                            fields[first] = "id.orig_p";
                        }

                        continue;
                    }

                    // zeek-cut without -m (community-id-logging): the test's columns, in its order.
                    fields = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "community_id"];
                }

                string Get(string name)
                {
                    int i = Array.IndexOf(fields, name);
                    return i >= 0 && i < cells.Length ? cells[i] : "-";
                }

                ulong? Number(string name) => ulong.TryParse(Get(name), NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : null;
                string parents = Get("tunnel_parents");
                bool hasTuple = IPAddress.TryParse(Get("id.orig_h"), out IPAddress? origH) & IPAddress.TryParse(Get("id.resp_h"), out IPAddress? respH);
                string proto = Get("proto");
                if (proto == "-" && hasTuple)
                {
                    // Projections without proto: the corpus's traces with such rows are TCP.
                    proto = "tcp";
                }

                rows.Add(new ZeekRow
                {
                    Uid = Get("uid"),
                    Proto = proto,
                    Service = Get("service"),
                    OrigH = hasTuple ? origH : null,
                    OrigP = int.TryParse(Get("id.orig_p"), CultureInfo.InvariantCulture, out int op) ? op : -1,
                    RespH = hasTuple ? respH : null,
                    RespP = int.TryParse(Get("id.resp_p"), CultureInfo.InvariantCulture, out int rp) ? rp : -1,
                    OrigPkts = Number("orig_pkts"),
                    OrigIpBytes = Number("orig_ip_bytes"),
                    RespPkts = Number("resp_pkts"),
                    RespIpBytes = Number("resp_ip_bytes"),
                    TunnelParents = parents is "-" or "(empty)" ? [] : parents.Split(','),
                    HasTunnelColumn = fields.Contains("tunnel_parents"),
                    Vlan = Get("vlan") is "-" ? Get("id.ctx.vlan") : Get("vlan"),
                    InnerVlan = Get("inner_vlan") is "-" ? Get("id.ctx.inner_vlan") : Get("inner_vlan"),
                });
            }

            return rows;
        }

        public bool IsEndpointA(IPAddress address, int port)
        {
            IPAddress other = address.Equals(OrigH) && port == OrigP ? RespH! : OrigH!;
            int otherPort = address.Equals(OrigH) && port == OrigP ? RespP : OrigP;
            int c = FlowEngine.Packets.IpAddress.From(address).CompareTo(FlowEngine.Packets.IpAddress.From(other));
            return c < 0 || (c == 0 && port <= otherPort);
        }

        public string GroupKey(bool vlanAware)
        {
            var (a, ap, b, bp) = OrigIsA ? (OrigH, OrigP, RespH, RespP) : (RespH, RespP, OrigH, OrigP);
            return $"{Proto} {a}:{ap} {b}:{bp}" + (vlanAware ? $" vlan={Vlan}/{InnerVlan}" : string.Empty);
        }

        public bool Matches(in FlowRecord r, out bool flipped)
        {
            flipped = false;
            if (!HasTuple)
            {
                return false;
            }

            int proto = Proto switch
            {
                "tcp" => 6,
                "udp" => 17,
                "icmp" => OrigH!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 58 : 1,
                _ => -1,
            };
            if (r.Protocol != proto)
            {
                return false;
            }

            IPAddress src = r.SourceAddress.ToIPAddress(r.IpVersion), dst = r.DestinationAddress.ToIPAddress(r.IpVersion);
            if (src.Equals(OrigH) && dst.Equals(RespH) && r.SourcePort == OrigP && r.DestinationPort == RespP)
            {
                return true;
            }

            flipped = src.Equals(RespH) && dst.Equals(OrigH) && r.SourcePort == RespP && r.DestinationPort == OrigP;
            return flipped;
        }

        public bool VlanMatches(in FlowRecord r)
        {
            // With the VLAN-aware key the innermost tag names FlowEngine's virtual network.
            string expected = InnerVlan is not (null or "-") ? InnerVlan : Vlan ?? "-";
            return expected == "-" ? r.VnKind == FlowEngine.Packets.VirtualNetworkKind.None : r.VnId.ToString(CultureInfo.InvariantCulture) == expected;
        }

        public override string ToString() => $"{Uid} {Proto} {OrigH}:{OrigP} -> {RespH}:{RespP} {OrigPkts}/{OrigIpBytes} -> {RespPkts}/{RespIpBytes} parents=[{string.Join(',', TunnelParents)}]";
    }
}
