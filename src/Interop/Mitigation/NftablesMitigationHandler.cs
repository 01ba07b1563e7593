// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Mitigation;
using FlowEngine.Packets;

namespace FlowEngine.Interop.Mitigation;

/// <summary>Options of the <see cref="NftablesMitigationHandler"/>.</summary>
public sealed class NftablesHandlerOptions
{
    /// <summary>The handler's own table, in the inet family (default flowengine).</summary>
    public string Table { get; set; } = "flowengine";

    /// <summary>A network namespace to act in (through ip netns exec); null for the current one.</summary>
    public string? NetworkNamespace { get; set; }

    /// <summary>
    /// Confines actions of a virtual network to its interface on this host (the bridge or tap of the network): packets
    /// from the target must come in on it (iifname), packets to it must go out on it (oifname). Networks not listed are
    /// not confined.
    /// </summary>
    public IReadOnlyDictionary<VirtualNetworkId, string> NetworkInterfaces { get; set; } = new Dictionary<VirtualNetworkId, string>();

    /// <summary>Longest a single nft call may take.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// The nftables handler: every action becomes rules (with counters) in a table of its own, <c>inet flowengine</c>,
/// hooked into forward, input and output at priority -5, so it works on a router or hypervisor and for the host's own
/// traffic alike. Block and isolate drop; shape polices with a named limit shared by both directions of the action.
/// The rules of an action carry a comment naming it, so applying twice finds them and adds nothing; revert deletes
/// them by handle; dispose deletes the table (and a table left by an earlier run is replaced at start).
/// </summary>
/// <remarks>Rules are written in nft's own syntax to <c>nft -f -</c> (one transaction per action); the table is read back with <c>nft -j</c>.</remarks>
public sealed class NftablesMitigationHandler : IMitigationHandler
{
    private static readonly string[] s_chains = ["forward", "input", "output"];
    private readonly NftablesHandlerOptions _options;
    private readonly ToolRunner _nft;
    private readonly string _table;
    private bool _disposed;

    /// <summary>Creates the handler and its table (replacing one left by an earlier run).</summary>
    /// <param name="options">Table name, namespace, network interfaces.</param>
    /// <exception cref="MitigationHandlerException">nft is missing or refuses the table.</exception>
    public NftablesMitigationHandler(NftablesHandlerOptions? options = null)
    {
        _options = options ?? new NftablesHandlerOptions();
        if (_options.Table.Length is 0 or > 32 || !_options.Table.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw new ArgumentException($"'{_options.Table}' is not a usable nftables table name", nameof(options));
        }

        _table = _options.Table;
        _nft = new ToolRunner("nft", _options.NetworkNamespace, _options.CommandTimeout);
        var setup = new StringBuilder();
        setup.Append(CultureInfo.InvariantCulture, $"add table inet {_table}\ndelete table inet {_table}\nadd table inet {_table}\n");
        foreach (string chain in s_chains)
        {
            setup.Append(CultureInfo.InvariantCulture, $"add chain inet {_table} {chain} {{ type filter hook {chain} priority -5; policy accept; }}\n");
        }

        _nft.Run(["-f", "-"], setup.ToString());
    }

    /// <inheritdoc/>
    public string Name => "nftables";

    /// <summary>The table, as nft names it: inet flowengine.</summary>
    public string TableName => $"inet {_table}";

    /// <summary>The comment that marks an action's rules (and names its limit).</summary>
    /// <param name="key">The action's key.</param>
    /// <returns>"fe-" and 16 hex digits of the key's SHA-256.</returns>
    public static string Tag(string key) => "fe-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 8));

    /// <summary>The rules an action becomes, in nft syntax (what <see cref="Apply"/> adds).</summary>
    /// <param name="action">The action.</param>
    /// <returns>The nft commands.</returns>
    public string RulesOf(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        string tag = Tag(action.Key);
        var b = new StringBuilder();
        string verdict = "counter drop";
        if (action.Kind == MitigationKind.Shape)
        {
            ShapeRate rate = action.Rate ?? throw new MitigationHandlerException("nftables: shape without a rate");
            string unit = rate.Unit == RateUnit.BytesPerSecond ? "bytes" : "packets";
            string per = rate.Unit == RateUnit.BytesPerSecond ? " bytes/second" : "/second";
            b.Append(CultureInfo.InvariantCulture, $"add limit inet {_table} {tag} {{ rate over {rate.PerSecond}{per} burst {rate.Burst} {unit} }}\n");
            verdict = $"limit name \"{tag}\" counter drop";
        }

        string? device = _options.NetworkInterfaces.TryGetValue(action.Network, out string? d) ? d : null;
        foreach ((string match, bool fromTarget) in Matches(action))
        {
            foreach (string chain in s_chains)
            {
                // A confined rule needs the interface the packet uses: iifname exists in forward and input, oifname in forward and output.
                if (device is not null && ((fromTarget && chain == "output") || (!fromTarget && chain == "input")))
                {
                    continue;
                }

                string confine = device is null ? "" : $" {(fromTarget ? "iifname" : "oifname")} \"{device}\"";
                b.Append(CultureInfo.InvariantCulture, $"add rule inet {_table} {chain} {match}{confine} {verdict} comment \"{tag}\"\n");
            }
        }

        return b.ToString();
    }

    /// <inheritdoc/>
    public void Apply(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ObjectDisposedException.ThrowIf(_disposed, this);
        string tag = Tag(action.Key);
        if (List().Rules.Any(r => r.Comment == tag))
        {
            return;
        }

        _nft.Run(["-f", "-"], RulesOf(action));
    }

    /// <inheritdoc/>
    public void Revert(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (_disposed)
        {
            return;
        }

        string tag = Tag(action.Key);
        Listing listing = List();
        var b = new StringBuilder();
        foreach (Rule r in listing.Rules.Where(r => r.Comment == tag))
        {
            b.Append(CultureInfo.InvariantCulture, $"delete rule inet {_table} {r.Chain} handle {r.Handle}\n");
        }

        if (listing.Limits.Contains(tag))
        {
            b.Append(CultureInfo.InvariantCulture, $"delete limit inet {_table} {tag}\n");
        }

        if (b.Length > 0)
        {
            _nft.Run(["-f", "-"], b.ToString());
        }
    }

    /// <summary>The packets and bytes an action's rules have dropped (summed over its rules).</summary>
    /// <param name="action">The action.</param>
    /// <returns>Packets, bytes, and the number of rules found.</returns>
    public (long Packets, long Bytes, int Rules) Counters(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        string tag = Tag(action.Key);
        long packets = 0, bytes = 0;
        int rules = 0;
        foreach (Rule r in List().Rules.Where(r => r.Comment == tag))
        {
            packets += r.Packets;
            bytes += r.Bytes;
            rules++;
        }

        return (packets, bytes, rules);
    }

    /// <summary>Deletes the table and everything in it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _nft.TryRun(["-f", "-"], $"add table inet {_table}\ndelete table inet {_table}\n", out _, out _);
    }

    private static IEnumerable<(string Match, bool FromTarget)> Matches(MitigationRequest a)
    {
        if (a.Flow is FlowIdentity f)
        {
            string fam = f.IpVersion == 6 ? "ip6" : "ip";
            string p = MitigationRequest.ProtocolName(f.Protocol);
            string src = f.Source.ToString(f.IpVersion), dst = f.Destination.ToString(f.IpVersion);
            bool ports = f.Protocol is 6 or 17;
            string forward = ports ? $"{p} sport {f.SourcePort} {p} dport {f.DestinationPort}" : $"meta l4proto {f.Protocol}";
            string backward = ports ? $"{p} sport {f.DestinationPort} {p} dport {f.SourcePort}" : $"meta l4proto {f.Protocol}";
            yield return ($"{fam} saddr {src} {fam} daddr {dst} {forward}", true);
            yield return ($"{fam} saddr {dst} {fam} daddr {src} {backward}", false);
            yield break;
        }

        IpNetwork target = a.Address!.Value;
        string family = target.IpVersion == 6 ? "ip6" : "ip";
        string address = target.IsHost ? target.ToString() : target.ToCidrString();
        string filter = "";
        if (a.Kind == MitigationKind.Block && a.Protocol != 0)
        {
            filter = a.Port != 0
                ? $" {MitigationRequest.ProtocolName(a.Protocol)} dport {a.Port}"
                : $" meta l4proto {a.Protocol}";
        }

        string fromOthers = "", toOthers = "";
        if (a.Kind == MitigationKind.Isolate)
        {
            string[] allowed = [.. a.Allow.Where(n => n.IpVersion == target.IpVersion).Select(n => n.IsHost ? n.ToString() : n.ToCidrString())];
            if (allowed.Length > 0)
            {
                string set = string.Join(", ", allowed);
                toOthers = $" {family} daddr != {{ {set} }}";
                fromOthers = $" {family} saddr != {{ {set} }}";
            }
        }

        if (a.Direction is TrafficDirection.Both or TrafficDirection.Outbound)
        {
            yield return ($"{family} saddr {address}{toOthers}{filter}", true);
        }

        if (a.Direction is TrafficDirection.Both or TrafficDirection.Inbound)
        {
            yield return ($"{family} daddr {address}{fromOthers}{filter}", false);
        }
    }

    private Listing List()
    {
        string json = _nft.Run(["-j", "list", "table", "inet", _table]);
        var rules = new List<Rule>();
        var limits = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            foreach (JsonElement item in doc.RootElement.GetProperty("nftables").EnumerateArray())
            {
                if (item.TryGetProperty("limit", out JsonElement limit))
                {
                    limits.Add(limit.GetProperty("name").GetString() ?? "");
                }

                if (!item.TryGetProperty("rule", out JsonElement rule))
                {
                    continue;
                }

                long packets = 0, bytes = 0;
                foreach (JsonElement e in rule.GetProperty("expr").EnumerateArray())
                {
                    if (e.TryGetProperty("counter", out JsonElement c) && c.ValueKind == JsonValueKind.Object)
                    {
                        packets += c.GetProperty("packets").GetInt64();
                        bytes += c.GetProperty("bytes").GetInt64();
                    }
                }

                rules.Add(new Rule(
                    rule.GetProperty("chain").GetString() ?? "",
                    rule.GetProperty("handle").GetInt64(),
                    rule.TryGetProperty("comment", out JsonElement comment) ? comment.GetString() : null,
                    packets,
                    bytes));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new MitigationHandlerException($"nft -j list table inet {_table}: unexpected output ({e.Message})", e);
        }

        return new Listing(rules, limits);
    }

    private sealed record Rule(string Chain, long Handle, string? Comment, long Packets, long Bytes);

    private sealed record Listing(List<Rule> Rules, HashSet<string> Limits);
}
