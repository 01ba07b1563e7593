// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using FlowEngine.Context.Profiles;
using FlowEngine.Mitigation;
using FlowEngine.Packets;

namespace FlowEngine.Detection;

/// <summary>What kind of indicator a threat-intelligence entry is.</summary>
public enum IndicatorKind : byte
{
    /// <summary>An IPv4 or IPv6 address.</summary>
    Address,

    /// <summary>An address prefix (CIDR).</summary>
    Prefix,

    /// <summary>A domain: the name and every name under it.</summary>
    Domain,

    /// <summary>A JA3 or JA3S fingerprint (32 hexadecimal digits, MD5).</summary>
    Ja3,

    /// <summary>A JA4 fingerprint (<c>t13d1516h2_8daaf6152771_e5627efa2ab1</c>).</summary>
    Ja4,
}

/// <summary>
/// A threat-intelligence set: addresses, prefixes, domains (matched with their subdomains) and JA3/JA4 fingerprints,
/// loaded from plain lists (one indicator a line, <c>#</c> comments) or CSV files (a header naming an
/// <c>indicator</c>, <c>ioc</c> or <c>value</c> column, optionally a <c>type</c> column). Immutable once loaded; lookups
/// allocate nothing. <see cref="ThreatIntelFeed"/> reloads it when its files change.
/// </summary>
public sealed class ThreatIntelSet
{
    private readonly HashSet<IpAddress> _addresses = [];
    private readonly Dictionary<int, HashSet<IpNetwork>> _prefixes = [];
    private readonly HashSet<ulong> _domains = [];
    private readonly HashSet<ulong> _fingerprints = [];
    private readonly List<string> _rejected = [];
    private int[] _prefixLengths = [];

    /// <summary>An empty set.</summary>
    public static ThreatIntelSet Empty { get; } = new();

    /// <summary>Indicators loaded.</summary>
    public int Count { get; private set; }

    /// <summary>Lines that were not indicators, as <c>file:line: reason</c> (the first 100).</summary>
    public IReadOnlyList<string> Rejected => _rejected;

    /// <summary>Lines refused in all.</summary>
    public int RejectedCount { get; private set; }

    /// <summary>Loads files (a missing or unreadable file throws; a bad line is counted in <see cref="Rejected"/>).</summary>
    /// <param name="paths">The files.</param>
    /// <returns>The set.</returns>
    public static ThreatIntelSet Load(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var set = new ThreatIntelSet();
        foreach (string path in paths)
        {
            set.AddFile(path);
        }

        set._prefixLengths = [.. set._prefixes.Keys.OrderByDescending(k => k)];
        return set;
    }

    /// <summary>Builds a set from indicators given as text (tests, configuration).</summary>
    /// <param name="indicators">The indicators.</param>
    /// <returns>The set.</returns>
    public static ThreatIntelSet Of(params string[] indicators)
    {
        ArgumentNullException.ThrowIfNull(indicators);
        var set = new ThreatIntelSet();
        for (int i = 0; i < indicators.Length; i++)
        {
            set.AddIndicator(indicators[i], null, "(inline)", i + 1);
        }

        set._prefixLengths = [.. set._prefixes.Keys.OrderByDescending(k => k)];
        return set;
    }

    /// <summary>Whether an address is listed, alone or in a prefix.</summary>
    /// <param name="address">The address.</param>
    /// <param name="ipVersion">4 or 6.</param>
    /// <returns>True when listed.</returns>
    public bool Contains(IpAddress address, byte ipVersion)
    {
        if (_addresses.Contains(address))
        {
            return true;
        }

        foreach (int key in _prefixLengths)
        {
            if ((key >> 8) == ipVersion && _prefixes[key].Contains(IpNetwork.Create(address, ipVersion, key & 0xFF)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a name is a listed domain or under one (case-insensitive, a trailing dot ignored).</summary>
    /// <param name="name">The name, ASCII.</param>
    /// <returns>True when listed.</returns>
    public bool ContainsDomain(ReadOnlySpan<byte> name)
    {
        if (_domains.Count == 0 || name.IsEmpty)
        {
            return false;
        }

        // Every suffix at a label boundary: the name, then each parent domain.
        ReadOnlySpan<byte> suffix = name[..Math.Min(name.Length, 255)];
        while (!suffix.IsEmpty)
        {
            if (_domains.Contains(ProfileStore.NameKey(suffix)))
            {
                return true;
            }

            int dot = suffix.IndexOf((byte)'.');
            if (dot < 0)
            {
                break;
            }

            suffix = suffix[(dot + 1)..];
        }

        return false;
    }

    /// <summary>Whether a JA3/JA3S/JA4 fingerprint is listed (case-insensitive).</summary>
    /// <param name="fingerprint">The fingerprint, ASCII.</param>
    /// <returns>True when listed.</returns>
    public bool ContainsFingerprint(ReadOnlySpan<byte> fingerprint)
    {
        if (_fingerprints.Count == 0 || fingerprint.IsEmpty || fingerprint.Length > 64)
        {
            return false;
        }

        return _fingerprints.Contains(ProfileStore.NameKey(fingerprint));
    }

    /// <summary>Recognises an indicator's kind from its text.</summary>
    /// <param name="text">The indicator.</param>
    /// <param name="kind">Its kind.</param>
    /// <returns>False when it is none of the kinds.</returns>
    public static bool TryClassify(string text, out IndicatorKind kind)
    {
        ArgumentNullException.ThrowIfNull(text);
        kind = default;
        if (IpNetwork.TryParse(text, out _))
        {
            kind = text.Contains('/', StringComparison.Ordinal) ? IndicatorKind.Prefix : IndicatorKind.Address;
            return true;
        }

        if (text.Length == 32 && text.All(Uri.IsHexDigit))
        {
            kind = IndicatorKind.Ja3;
            return true;
        }

        string[] ja4 = text.Split('_');
        if (ja4.Length == 3 && ja4[0].Length == 10 && ja4[1].Length == 12 && ja4[2].Length == 12 && (text[0] is 't' or 'q' or 'd'))
        {
            kind = IndicatorKind.Ja4;
            return true;
        }

        string name = text.TrimEnd('.');
        if (name.Length is > 0 and <= 253 && name.Contains('.', StringComparison.Ordinal)
            && name.Split('.').All(l => l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            kind = IndicatorKind.Domain;
            return true;
        }

        return false;
    }

    private void AddFile(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int column = -1, typeColumn = -1, lineNumber = 0;
        bool first = true;
        while (reader.ReadLine() is string line)
        {
            lineNumber++;
            string text = line.Trim();
            if (text.Length == 0 || text[0] == '#')
            {
                continue;
            }

            if (first)
            {
                first = false;
                string[] header = text.Split(',').Select(h => h.Trim().Trim('"').ToUpperInvariant()).ToArray();
                int named = Array.FindIndex(header, h => h is "INDICATOR" or "IOC" or "VALUE");
                if (named >= 0)
                {
                    column = named;
                    typeColumn = Array.FindIndex(header, h => h is "TYPE" or "KIND");
                    continue;
                }
            }

            string value = text;
            string? type = null;
            if (column >= 0)
            {
                string[] cells = text.Split(',');
                value = column < cells.Length ? cells[column].Trim().Trim('"') : string.Empty;
                type = typeColumn >= 0 && typeColumn < cells.Length ? cells[typeColumn].Trim().Trim('"') : null;
            }

            AddIndicator(value, type, path, lineNumber);
        }
    }

    private void AddIndicator(string value, string? type, string file, int line)
    {
        if (!TryClassify(value, out IndicatorKind kind))
        {
            Reject(file, line, $"'{(value.Length > 60 ? value[..60] + "..." : value)}' is not an address, prefix, domain, JA3 or JA4 fingerprint");
            return;
        }

        if (type is { Length: > 0 } && !TypeAgrees(type, kind))
        {
            Reject(file, line, $"'{value}' is a {kind.ToString().ToLowerInvariant()}, but the type column says '{type}'");
            return;
        }

        switch (kind)
        {
            case IndicatorKind.Address:
                _addresses.Add(IpNetwork.Parse(value).Address);
                break;
            case IndicatorKind.Prefix:
                IpNetwork network = IpNetwork.Parse(value);
                int key = (network.IpVersion << 8) | network.PrefixLength;
                if (!_prefixes.TryGetValue(key, out HashSet<IpNetwork>? set))
                {
                    _prefixes[key] = set = [];
                }

                set.Add(network);
                break;
            case IndicatorKind.Domain:
                _domains.Add(HashText(value));
                break;
            default:
                _fingerprints.Add(HashText(value));
                break;
        }

        Count++;
    }

    private static bool TypeAgrees(string type, IndicatorKind kind) => type.ToUpperInvariant() switch
    {
        "IP" or "IPV4" or "IPV6" or "ADDRESS" or "IP-DST" or "IP-SRC" => kind is IndicatorKind.Address or IndicatorKind.Prefix,
        "CIDR" or "PREFIX" or "NETWORK" or "SUBNET" => kind is IndicatorKind.Prefix or IndicatorKind.Address,
        "DOMAIN" or "HOSTNAME" or "FQDN" => kind == IndicatorKind.Domain,
        "JA3" or "JA3S" or "JA3_MD5" => kind == IndicatorKind.Ja3,
        "JA4" => kind == IndicatorKind.Ja4,
        _ => true,
    };

    private void Reject(string file, int line, string reason)
    {
        RejectedCount++;
        if (_rejected.Count < 100)
        {
            _rejected.Add(string.Create(CultureInfo.InvariantCulture, $"{file}:{line}: {reason}"));
        }
    }

    // Names and fingerprints are keyed as profiles key names: case-folded, a trailing dot ignored.
    private static ulong HashText(string text) => ProfileStore.NameKey(Encoding.ASCII.GetBytes(text));
}

/// <summary>
/// A <see cref="ThreatIntelSet"/> kept current: <see cref="Refresh"/> reloads it when a file's size or time of last
/// write changed (call it from a timer, or let <see cref="FlowClassifier"/> call it every few seconds of packet
/// time); a reload that fails keeps the set in force and reports why in <see cref="LastError"/>.
/// </summary>
public sealed class ThreatIntelFeed
{
    private readonly string[] _paths;
    private (long Length, DateTime Written)[] _stamps;
    private ThreatIntelSet _current;

    private ThreatIntelFeed(ThreatIntelSet set)
    {
        _paths = [];
        _stamps = [];
        _current = set;
    }

    /// <summary>Loads the files now (throws when one is missing or unreadable).</summary>
    /// <param name="paths">The files.</param>
    public ThreatIntelFeed(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        _paths = [.. paths];
        _stamps = Stamps();
        _current = ThreatIntelSet.Load(_paths);
    }

    /// <summary>A feed of one set that never changes (tests, indicators from configuration).</summary>
    /// <param name="set">The set.</param>
    /// <returns>The feed.</returns>
    public static ThreatIntelFeed Fixed(ThreatIntelSet set) => new(set ?? throw new ArgumentNullException(nameof(set)));

    /// <summary>The set in force.</summary>
    public ThreatIntelSet Current => Volatile.Read(ref _current);

    /// <summary>Reloads that happened.</summary>
    public int Reloads { get; private set; }

    /// <summary>Why the last reload failed, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Reloads when a file changed; returns whether it did.</summary>
    /// <returns>True after a reload.</returns>
    public bool Refresh()
    {
        if (_paths.Length == 0)
        {
            return false;
        }

        (long, DateTime)[] stamps;
        try
        {
            stamps = Stamps();
        }
        catch (IOException e)
        {
            LastError = e.Message;
            return false;
        }

        if (stamps.AsSpan().SequenceEqual(_stamps))
        {
            return false;
        }

        try
        {
            ThreatIntelSet set = ThreatIntelSet.Load(_paths);
            Volatile.Write(ref _current, set);
            _stamps = stamps;
            Reloads++;
            LastError = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LastError = e.Message;
            return false;
        }
    }

    private (long Length, DateTime Written)[] Stamps() =>
        [.. _paths.Select(p => new FileInfo(p) is { Exists: true } f ? (f.Length, f.LastWriteTimeUtc) : throw new FileNotFoundException($"threat intelligence file not found: {p}", p))];
}
