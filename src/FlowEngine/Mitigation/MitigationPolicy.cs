// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Mitigation;

/// <summary>Which part of an alert an action of the policy aims at.</summary>
public enum PolicyTarget : byte
{
    /// <summary>The alert's flow, both directions.</summary>
    Flow = 1,

    /// <summary>The flow's source address.</summary>
    Source = 2,

    /// <summary>The flow's destination address.</summary>
    Destination = 3,

    /// <summary>The alert's <see cref="Alert.Target"/> (the victim or the contacted host), else the destination.</summary>
    Target = 4,

    /// <summary>The VM of the alert: the flow's source (the VM originated it), named by <see cref="Alert.Vm"/>.</summary>
    Vm = 5,
}

/// <summary>One action of a policy rule, made concrete for each alert by <see cref="MitigationPolicy.Decide"/>.</summary>
/// <param name="Kind">Shape, block or isolate.</param>
/// <param name="Target">What it aims at.</param>
/// <param name="Direction">Address-level block: which packets of the target.</param>
/// <param name="Protocol">Address-level block: IP protocol, 0 for any, or <see cref="FromFlow"/> for the alert flow's.</param>
/// <param name="Port">Address-level block: destination port, 0 for any, or <see cref="FromFlow"/> for the alert flow's destination port.</param>
/// <param name="Rate">Shape: the rate.</param>
/// <param name="PrefixLength">Address-level: widen the address to this prefix (0 keeps the single address).</param>
/// <param name="Ttl">How long it stays in force.</param>
public sealed record PolicyAction(MitigationKind Kind, PolicyTarget Target, TrafficDirection Direction, int Protocol, int Port, ShapeRate? Rate, int PrefixLength, TimeSpan Ttl)
{
    /// <summary>The protocol or port value that means "the alert flow's".</summary>
    public const int FromFlow = -1;
}

/// <summary>A policy rule: alerts of <paramref name="Class"/> (null for any) with at least <paramref name="MinConfidence"/> get <paramref name="Actions"/>.</summary>
/// <param name="Class">The class, or null for every class.</param>
/// <param name="MinConfidence">Lowest confidence, 0 to 1.</param>
/// <param name="Actions">What to do.</param>
public sealed record PolicyRule(AttackClass? Class, double MinConfidence, IReadOnlyList<PolicyAction> Actions);

/// <summary>
/// Maps alerts (class and confidence) to mitigation actions, with the safety settings the
/// <see cref="MitigationController"/> enforces: the allowlist, the budget of actions per minute and the default
/// TTL. Rules are tried in order; the first whose class matches and whose confidence the alert reaches gives the
/// actions. Loaded from JSON (docs/mitigation.md); <see cref="Default"/> is the documented default.
/// </summary>
public sealed class MitigationPolicy
{
    /// <summary>The policy file format version this reader knows.</summary>
    public const int FormatVersion = 1;

    private static readonly TimeSpan s_maxTtl = TimeSpan.FromDays(7);

    /// <summary>Creates a policy.</summary>
    /// <param name="rules">The rules, in order.</param>
    /// <param name="allowlist">Addresses and networks never blocked, shaped or isolated.</param>
    /// <param name="budgetPerMinute">Most actions put in force in any 60 s; more are refused.</param>
    /// <param name="defaultTtl">TTL of actions that name none.</param>
    public MitigationPolicy(IReadOnlyList<PolicyRule> rules, IReadOnlyList<IpNetwork> allowlist, int budgetPerMinute = 10, TimeSpan? defaultTtl = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(allowlist);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetPerMinute);
        Rules = [.. rules];
        Allowlist = [.. allowlist];
        BudgetPerMinute = budgetPerMinute;
        DefaultTtl = defaultTtl ?? TimeSpan.FromMinutes(10);
    }

    /// <summary>The rules, tried in order.</summary>
    public IReadOnlyList<PolicyRule> Rules { get; }

    /// <summary>Never blocked, shaped or isolated; always reachable from an isolated VM.</summary>
    public IReadOnlyList<IpNetwork> Allowlist { get; }

    /// <summary>Most actions put in force in any 60 seconds.</summary>
    public int BudgetPerMinute { get; }

    /// <summary>TTL of actions that name none.</summary>
    public TimeSpan DefaultTtl { get; }

    /// <summary>The default policy (docs/mitigation.md), with an empty allowlist unless one is given.</summary>
    /// <param name="allowlist">The site's management and infrastructure networks.</param>
    /// <returns>The policy.</returns>
    public static MitigationPolicy Default(IReadOnlyList<IpNetwork>? allowlist = null)
    {
        MitigationPolicy p = Parse(DefaultJson, "default policy");
        return allowlist is null ? p : new MitigationPolicy(p.Rules, allowlist, p.BudgetPerMinute, p.DefaultTtl);
    }

    /// <summary>The default policy as a policy file (a starting point for a site's own).</summary>
    public static string DefaultJson => """
        {
          "version": 1,
          "budget_per_minute": 10,
          "ttl_seconds": 600,
          "allowlist": [],
          "rules": [
            { "class": "exfiltration", "min_confidence": 0.9, "actions": [ { "action": "block", "target": "destination", "direction": "both", "ttl_seconds": 3600 } ] },
            { "class": "exfiltration", "min_confidence": 0.6, "actions": [ { "action": "shape", "target": "flow", "bytes_per_second": 131072 } ] },
            { "class": "c2", "min_confidence": 0.8, "actions": [ { "action": "block", "target": "destination", "direction": "both", "ttl_seconds": 3600 } ] },
            { "class": "malware", "min_confidence": 0.9, "actions": [ { "action": "isolate", "target": "vm", "ttl_seconds": 1800 } ] },
            { "class": "dos", "min_confidence": 0.9, "actions": [ { "action": "block", "target": "source", "direction": "outbound" } ] },
            { "class": "dos", "min_confidence": 0.6, "actions": [ { "action": "shape", "target": "flow", "packets_per_second": 1000 } ] },
            { "class": "scan", "min_confidence": 0.8, "actions": [ { "action": "block", "target": "source", "direction": "outbound", "ttl_seconds": 900 } ] },
            { "class": "dns_tunnel", "min_confidence": 0.8, "actions": [ { "action": "block", "target": "flow" } ] },
            { "class": "lateral_movement", "min_confidence": 0.95, "actions": [ { "action": "isolate", "target": "vm", "ttl_seconds": 900 } ] },
            { "class": "lateral_movement", "min_confidence": 0.7, "actions": [ { "action": "block", "target": "flow" } ] }
          ]
        }
        """;

    /// <summary>Loads a policy file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="MitigationPolicyFormatException">The file is not a valid policy (the message says where and why).</exception>
    public static MitigationPolicy Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MitigationPolicyFormatException($"{path}: cannot read: {e.Message}", e);
        }

        return Parse(text, path);
    }

    /// <summary>Parses a policy from JSON text.</summary>
    /// <param name="json">The text.</param>
    /// <param name="source">Named in error messages.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="MitigationPolicyFormatException">Not a valid policy.</exception>
    public static MitigationPolicy Parse(string json, string source = "policy")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new MitigationPolicyFormatException($"{source}: not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}): {e.Message}", e);
        }

        using (doc)
        {
            var reader = new Reader(source);
            return reader.ReadPolicy(doc.RootElement);
        }
    }

    /// <summary>The name of a class in policy files and alerts, as detect writes it (<see cref="AttackClassNames.ToName"/>): exfiltration, c2, dos, scan, dns_tunnel, lateral_movement, malware, anomaly.</summary>
    /// <param name="attackClass">The class.</param>
    /// <returns>The name.</returns>
    public static string ClassName(AttackClass attackClass) => attackClass.ToName();

    /// <summary>The actions for one alert: those of the first rule it matches, aimed at its flow or addresses; none when no rule matches.</summary>
    /// <param name="alert">The alert.</param>
    /// <returns>The requests, each carrying the alert as its cause (the controller still applies the safety rules).</returns>
    public IReadOnlyList<MitigationRequest> Decide(in Alert alert)
    {
        foreach (PolicyRule rule in Rules)
        {
            if ((rule.Class is null || rule.Class == alert.Class) && alert.Confidence >= rule.MinConfidence)
            {
                var requests = new List<MitigationRequest>(rule.Actions.Count);
                foreach (PolicyAction action in rule.Actions)
                {
                    requests.Add(Make(action, alert));
                }

                return requests;
            }
        }

        return [];
    }

    private MitigationRequest Make(PolicyAction a, in Alert alert)
    {
        FlowIdentity f = alert.Flow;
        IpAddress address = a.Target switch
        {
            PolicyTarget.Destination => f.Destination,
            PolicyTarget.Target => alert.Target ?? f.Destination,
            _ => f.Source,
        };
        IpNetwork network = a.PrefixLength > 0 && a.PrefixLength < (f.IpVersion == 4 ? 32 : 128)
            ? IpNetwork.Create(address, f.IpVersion, a.PrefixLength)
            : IpNetwork.Host(address, f.IpVersion);
        byte protocol = a.Protocol == PolicyAction.FromFlow ? f.Protocol : (byte)a.Protocol;
        ushort port = a.Port == PolicyAction.FromFlow ? (protocol is 6 or 17 ? f.DestinationPort : (ushort)0) : (ushort)a.Port;
        MitigationRequest request = (a.Kind, a.Target) switch
        {
            (MitigationKind.Shape, PolicyTarget.Flow) => MitigationRequest.ShapeFlow(f, a.Rate!.Value),
            (MitigationKind.Shape, _) => MitigationRequest.ShapeAddress(network, f.Network, a.Rate!.Value),
            (MitigationKind.Block, PolicyTarget.Flow) => MitigationRequest.BlockFlow(f),
            (MitigationKind.Block, _) => MitigationRequest.BlockAddress(network, f.Network, a.Direction, protocol, protocol is 6 or 17 ? port : (ushort)0),
            _ => MitigationRequest.Isolate(network, f.Network, Allowlist),
        };
        return request.With(a.Ttl > TimeSpan.Zero ? a.Ttl : DefaultTtl, a.Target is PolicyTarget.Vm or PolicyTarget.Source or PolicyTarget.Flow ? alert.Vm : null, alert);
    }

    private sealed class Reader(string source)
    {
        public MitigationPolicy ReadPolicy(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error("", "the policy must be a JSON object");
            }

            CheckKeys(root, "", "version", "budget_per_minute", "ttl_seconds", "allowlist", "rules");
            int version = root.TryGetProperty("version", out JsonElement v) ? Int(v, "version", 1, 1000) : throw Error("", "missing \"version\" (this reader knows version 1)");
            if (version != FormatVersion)
            {
                throw Error("version", $"version {version} is not supported (this reader knows version {FormatVersion})");
            }

            int budget = root.TryGetProperty("budget_per_minute", out JsonElement b) ? Int(b, "budget_per_minute", 1, 100_000) : 10;
            TimeSpan ttl = root.TryGetProperty("ttl_seconds", out JsonElement t) ? Ttl(t, "ttl_seconds") : TimeSpan.FromMinutes(10);
            var allow = new List<IpNetwork>();
            if (root.TryGetProperty("allowlist", out JsonElement list))
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    throw Error("allowlist", "must be an array of addresses or CIDRs");
                }

                int i = 0;
                foreach (JsonElement e in list.EnumerateArray())
                {
                    string path = $"allowlist[{i++}]";
                    if (e.ValueKind != JsonValueKind.String || !IpNetwork.TryParse(e.GetString(), out IpNetwork n))
                    {
                        throw Error(path, $"{e.GetRawText()} is not an IP address or CIDR (e.g. \"10.0.0.1\", \"10.0.0.0/24\", \"fd00::/64\")");
                    }

                    allow.Add(n);
                }
            }

            if (!root.TryGetProperty("rules", out JsonElement rulesElement) || rulesElement.ValueKind != JsonValueKind.Array)
            {
                throw Error("rules", "missing or not an array (use [] for a policy that never acts)");
            }

            var rules = new List<PolicyRule>();
            int r = 0;
            foreach (JsonElement rule in rulesElement.EnumerateArray())
            {
                rules.Add(ReadRule(rule, $"rules[{r++}]"));
            }

            return new MitigationPolicy(rules, allow, budget, ttl);
        }

        private PolicyRule ReadRule(JsonElement rule, string path)
        {
            if (rule.ValueKind != JsonValueKind.Object)
            {
                throw Error(path, "a rule must be an object");
            }

            CheckKeys(rule, path, "class", "min_confidence", "actions");
            if (!rule.TryGetProperty("class", out JsonElement c) || c.ValueKind != JsonValueKind.String)
            {
                throw Error(path + ".class", $"missing or not a string (one of {string.Join(", ", ClassNames())}, or \"any\")");
            }

            AttackClass? attackClass = ParseClass(c.GetString()!, path + ".class");
            double min = 0;
            if (rule.TryGetProperty("min_confidence", out JsonElement m))
            {
                if (m.ValueKind != JsonValueKind.Number || !m.TryGetDouble(out min) || !(min >= 0 && min <= 1))
                {
                    throw Error(path + ".min_confidence", $"{m.GetRawText()} is not a number from 0 to 1");
                }
            }

            if (!rule.TryGetProperty("actions", out JsonElement actions) || actions.ValueKind != JsonValueKind.Array || actions.GetArrayLength() == 0)
            {
                throw Error(path + ".actions", "missing, empty or not an array of actions");
            }

            var list = new List<PolicyAction>();
            int i = 0;
            foreach (JsonElement a in actions.EnumerateArray())
            {
                list.Add(ReadAction(a, $"{path}.actions[{i++}]"));
            }

            return new PolicyRule(attackClass, min, list);
        }

        private PolicyAction ReadAction(JsonElement a, string path)
        {
            if (a.ValueKind != JsonValueKind.Object)
            {
                throw Error(path, "an action must be an object");
            }

            CheckKeys(a, path, "action", "target", "direction", "protocol", "port", "prefix_length", "bytes_per_second", "packets_per_second", "burst", "ttl_seconds");
            string kindText = Str(a, "action", path) ?? throw Error(path + ".action", "missing (shape, block or isolate)");
            MitigationKind kind = kindText switch
            {
                "shape" => MitigationKind.Shape,
                "block" => MitigationKind.Block,
                "isolate" => MitigationKind.Isolate,
                _ => throw Error(path + ".action", $"'{kindText}' is not an action (shape, block or isolate)"),
            };
            string targetText = Str(a, "target", path) ?? (kind == MitigationKind.Isolate ? "vm" : throw Error(path + ".target", "missing (flow, source, destination, target or vm)"));
            PolicyTarget target = targetText switch
            {
                "flow" => PolicyTarget.Flow,
                "source" => PolicyTarget.Source,
                "destination" => PolicyTarget.Destination,
                "target" => PolicyTarget.Target,
                "vm" => PolicyTarget.Vm,
                _ => throw Error(path + ".target", $"'{targetText}' is not a target (flow, source, destination, target or vm)"),
            };
            if (kind == MitigationKind.Isolate && target == PolicyTarget.Flow)
            {
                throw Error(path + ".target", "isolate acts on a VM or an address, not on a flow");
            }

            string? directionText = Str(a, "direction", path);
            TrafficDirection direction = directionText switch
            {
                null or "both" => TrafficDirection.Both,
                "inbound" or "in" => TrafficDirection.Inbound,
                "outbound" or "out" => TrafficDirection.Outbound,
                _ => throw Error(path + ".direction", $"'{directionText}' is not a direction (both, inbound or outbound)"),
            };
            int protocol = 0;
            if (a.TryGetProperty("protocol", out JsonElement p))
            {
                protocol = p.ValueKind == JsonValueKind.Number ? Int(p, path + ".protocol", 0, 255) : p.GetString() switch
                {
                    "any" => 0,
                    "tcp" => 6,
                    "udp" => 17,
                    "icmp" => 1,
                    "icmpv6" => 58,
                    "flow" => PolicyAction.FromFlow,
                    _ => throw Error(path + ".protocol", $"{p.GetRawText()} is not a protocol (any, tcp, udp, icmp, icmpv6, flow, or a number)"),
                };
            }

            int port = 0;
            if (a.TryGetProperty("port", out JsonElement portElement))
            {
                port = portElement.ValueKind == JsonValueKind.Number ? Int(portElement, path + ".port", 1, 65535) : portElement.GetString() switch
                {
                    "any" => 0,
                    "flow" => PolicyAction.FromFlow,
                    _ => throw Error(path + ".port", $"{portElement.GetRawText()} is not a port (1-65535, any or flow)"),
                };
                if (port > 0 && protocol is not (6 or 17 or PolicyAction.FromFlow))
                {
                    throw Error(path + ".port", "a port needs \"protocol\": \"tcp\", \"udp\" or \"flow\"");
                }
            }

            if ((protocol != 0 || port != 0 || directionText is not null) && (kind != MitigationKind.Block || target == PolicyTarget.Flow))
            {
                throw Error(path, "direction, protocol and port belong to a block of an address (target source, destination, target or vm)");
            }

            int prefix = a.TryGetProperty("prefix_length", out JsonElement pl) ? Int(pl, path + ".prefix_length", 1, 128) : 0;
            if (prefix > 0 && target == PolicyTarget.Flow)
            {
                throw Error(path + ".prefix_length", "a flow has no prefix");
            }

            bool hasBytes = a.TryGetProperty("bytes_per_second", out JsonElement bps);
            bool hasPackets = a.TryGetProperty("packets_per_second", out JsonElement pps);
            long burst = a.TryGetProperty("burst", out JsonElement be) ? Long(be, path + ".burst", 1, long.MaxValue / 2) : 0;
            ShapeRate? rate = null;
            if (kind == MitigationKind.Shape)
            {
                if (hasBytes == hasPackets)
                {
                    throw Error(path, "shape needs exactly one of bytes_per_second and packets_per_second");
                }

                rate = hasBytes
                    ? ShapeRate.Bytes(Long(bps, path + ".bytes_per_second", 1, long.MaxValue / 2), burst)
                    : ShapeRate.Packets(Long(pps, path + ".packets_per_second", 1, long.MaxValue / 2), burst);
            }
            else if (hasBytes || hasPackets || burst != 0)
            {
                throw Error(path, "bytes_per_second, packets_per_second and burst belong to shape");
            }

            TimeSpan ttl = a.TryGetProperty("ttl_seconds", out JsonElement t) ? Ttl(t, path + ".ttl_seconds") : TimeSpan.Zero;
            return new PolicyAction(kind, target, direction, protocol, port, rate, prefix, ttl);
        }

        private AttackClass? ParseClass(string name, string path)
        {
            if (name is "any" or "*")
            {
                return null;
            }

            foreach (AttackClass c in Enum.GetValues<AttackClass>())
            {
                if (c != AttackClass.None && ClassName(c) == name)
                {
                    return c;
                }
            }

            throw Error(path, $"'{name}' is not a class (one of {string.Join(", ", ClassNames())}, or \"any\")");
        }

        private static IEnumerable<string> ClassNames() => Enum.GetValues<AttackClass>().Where(c => c != AttackClass.None).Select(ClassName);

        private TimeSpan Ttl(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double s) || !(s > 0) || s > s_maxTtl.TotalSeconds)
            {
                throw Error(path, $"{e.GetRawText()} is not a number of seconds above 0 and at most {s_maxTtl.TotalSeconds:0} (7 days)");
            }

            return TimeSpan.FromSeconds(s);
        }

        private int Int(JsonElement e, string path, int min, int max) => (int)Long(e, path, min, max);

        private long Long(JsonElement e, string path, long min, long max)
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long v) || v < min || v > max)
            {
                throw Error(path, $"{e.GetRawText()} is not a whole number from {min} to {max}");
            }

            return v;
        }

        private string? Str(JsonElement o, string key, string path)
        {
            if (!o.TryGetProperty(key, out JsonElement e))
            {
                return null;
            }

            return e.ValueKind == JsonValueKind.String ? e.GetString() : throw Error($"{path}.{key}", $"{e.GetRawText()} is not a string");
        }

        private void CheckKeys(JsonElement o, string path, params string[] known)
        {
            foreach (JsonProperty p in o.EnumerateObject())
            {
                if (Array.IndexOf(known, p.Name) < 0)
                {
                    throw Error(path, $"unknown key \"{p.Name}\" (known: {string.Join(", ", known)})");
                }
            }
        }

        private MitigationPolicyFormatException Error(string path, string message) =>
            new(path.Length == 0 ? $"{source}: {message}" : $"{source}: {path}: {message}");
    }
}

/// <summary>A policy file that is not valid; the message names the file, the place in it and the reason.</summary>
public sealed class MitigationPolicyFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MitigationPolicyFormatException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Where and why.</param>
    public MitigationPolicyFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Where and why.</param>
    /// <param name="inner">The cause.</param>
    public MitigationPolicyFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
