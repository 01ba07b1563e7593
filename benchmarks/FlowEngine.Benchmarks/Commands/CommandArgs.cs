// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Benchmarks.Synthetic;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>Options of the non-BDN modes: <c>--name value</c> pairs and bare <c>--flag</c>s.</summary>
public sealed class CommandArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <param name="args">Arguments after the mode name.</param>
    public CommandArgs(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{a}'.");
            }

            string? value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            _values[a[2..]] = value;
        }
    }

    /// <summary>True when <c>--name</c> was given.</summary>
    /// <param name="name">Option name without dashes.</param>
    /// <returns>Presence.</returns>
    public bool Flag(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>The value of <c>--name</c>, or <paramref name="fallback"/>.</summary>
    /// <param name="name">Option name without dashes.</param>
    /// <param name="fallback">Default.</param>
    /// <returns>The value.</returns>
    public string String(string name, string fallback)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out string? v) ? v ?? throw new ArgumentException($"--{name} needs a value.") : fallback;
    }

    /// <summary>An integer option; accepts k/M suffixes (100k, 1M).</summary>
    /// <param name="name">Option name without dashes.</param>
    /// <param name="fallback">Default.</param>
    /// <returns>The value.</returns>
    public long Int(string name, long fallback)
    {
        string s = String(name, string.Empty);
        if (s.Length == 0)
        {
            return fallback;
        }

        long scale = char.ToUpperInvariant(s[^1]) switch { 'K' => 1_000, 'M' => 1_000_000, _ => 1 };
        return long.Parse(scale == 1 ? s : s[..^1], NumberStyles.Integer, CultureInfo.InvariantCulture) * scale;
    }

    /// <summary>A floating-point option.</summary>
    /// <param name="name">Option name without dashes.</param>
    /// <param name="fallback">Default.</param>
    /// <returns>The value.</returns>
    public double Double(string name, double fallback)
    {
        string s = String(name, string.Empty);
        return s.Length == 0 ? fallback : double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>Throws when an option was given that no one asked for (a typo).</summary>
    public void ThrowIfUnknown()
    {
        foreach (string name in _values.Keys)
        {
            if (!_used.Contains(name))
            {
                throw new ArgumentException($"Unknown option --{name}.");
            }
        }
    }

    /// <summary>The traffic profile options shared by the modes.</summary>
    /// <param name="defaultFlows">Default flow population.</param>
    /// <returns>The profile.</returns>
    public TrafficProfile Profile(int defaultFlows)
    {
        var p = new TrafficProfile();
        string encap = Flag("plain") ? "plain" : String("encap", "vxlan");
        return p with
        {
            Seed = (ulong)Int("seed", (long)p.Seed),
            Flows = checked((int)Int("flows", defaultFlows)),
            Vnis = checked((int)Int("vnis", p.Vnis)),
            ZipfExponent = Double("zipf", p.ZipfExponent),
            IPv6Fraction = Double("ipv6", p.IPv6Fraction),
            InnerVlanFraction = Double("vlan", p.InnerVlanFraction),
            TcpFraction = Double("tcp", p.TcpFraction),
            PacketsPerSecond = Double("pps", p.PacketsPerSecond),
            SnapLength = checked((int)Int("snaplen", p.SnapLength)),
            Encapsulation = encap switch
            {
                "plain" => Encapsulation.Plain,
                "vxlan" => Encapsulation.Vxlan,
                "geneve" => Encapsulation.Geneve,
                _ => throw new ArgumentException($"--encap must be plain, vxlan or geneve, not '{encap}'."),
            },
        };
    }

    /// <summary>Help text for <see cref="Profile"/>.</summary>
    public const string ProfileHelp =
        "  --flows N        flow population (default 100k; k/M suffixes)\n" +
        "  --encap E        vxlan (default), geneve or plain; --plain is short for --encap plain\n" +
        "  --seed S         generator seed (default 1)\n" +
        "  --vnis N         tenant networks (default 64)\n" +
        "  --zipf S         Zipf exponent of flow popularity (default 1.1)\n" +
        "  --ipv6 F         fraction of IPv6 flows (default 0.2)\n" +
        "  --vlan F         fraction of flows with an inner 802.1Q tag (default 0.1)\n" +
        "  --tcp F          fraction of TCP flows (default 0.8)\n" +
        "  --pps R          mean packet rate for timestamps (default 1M)\n" +
        "  --snaplen N      bytes kept per frame (default 0: whole frames)\n";
}
