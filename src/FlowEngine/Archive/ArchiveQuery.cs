// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using FlowEngine.AppLayer;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Archive;

/// <summary>
/// Which flows to read: every condition set must hold (unset ones match everything). A flow is in the time window
/// when its packets overlap it: first packet at or before <see cref="ToNs"/>, last packet at or after <see cref="FromNs"/>.
/// </summary>
public sealed class ArchiveQuery
{
    /// <summary>Window start, Unix ns.</summary>
    public long? FromNs { get; set; }

    /// <summary>Window end, Unix ns.</summary>
    public long? ToNs { get; set; }

    /// <summary>Either end's VM name (exact).</summary>
    public string? Vm { get; set; }

    /// <summary>The virtual network identifier (VNI, VLAN id or GRE key; flows outside any virtual network never match).</summary>
    public uint? Vni { get; set; }

    /// <summary>Either end's address in this network (with <see cref="PrefixLength"/> and <see cref="IpVersion"/>).</summary>
    public IpAddress? Network { get; set; }

    /// <summary>Prefix length of <see cref="Network"/>.</summary>
    public int PrefixLength { get; set; }

    /// <summary>4 or 6: the version of <see cref="Network"/>.</summary>
    public byte IpVersion { get; set; }

    /// <summary>Either end's port.</summary>
    public ushort? Port { get; set; }

    /// <summary>IP protocol number.</summary>
    public byte? Protocol { get; set; }

    /// <summary>The application recognised.</summary>
    public AppProtocol? App { get; set; }

    /// <summary>Only flows that raised an alert.</summary>
    public bool AlertsOnly { get; set; }

    /// <summary>Sets <see cref="Network"/> from <c>10.0.0.0/24</c>, <c>10.0.0.5</c>, <c>fd00::/64</c>.</summary>
    /// <param name="cidr">The text.</param>
    /// <exception cref="FormatException">Not an address or CIDR block.</exception>
    public void SetNetwork(string cidr)
    {
        ArgumentNullException.ThrowIfNull(cidr);
        int slash = cidr.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? cidr : cidr[..slash];
        if (!IPAddress.TryParse(addressText, out IPAddress? address))
        {
            throw new FormatException($"'{cidr}' is not an IP address or CIDR block");
        }

        int bits = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        int prefix = bits;
        if (slash >= 0 && (!int.TryParse(cidr.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            throw new FormatException($"'{cidr}': the prefix length must be 0 to {bits}");
        }

        Network = IpAddress.From(address);
        PrefixLength = prefix;
        IpVersion = (byte)(bits == 32 ? 4 : 6);
    }

    internal bool HasNetwork => Network is not null;

    internal bool ExactAddress => Network is not null && PrefixLength == (IpVersion == 4 ? 32 : 128);

    /// <summary>True when <paramref name="address"/> (of <paramref name="ipVersion"/>) lies in <see cref="Network"/>.</summary>
    internal bool InNetwork(in IpAddress address, byte ipVersion)
    {
        if (ipVersion != IpVersion)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[16];
        Span<byte> n = stackalloc byte[16];
        address.WriteBytes(a);
        Network!.Value.WriteBytes(n);
        int full = PrefixLength / 8;
        if (!a[..full].SequenceEqual(n[..full]))
        {
            return false;
        }

        int rest = PrefixLength % 8;
        if (rest == 0)
        {
            return true;
        }

        int mask = 0xFF00 >> rest;
        return (a[full] & mask) == (n[full] & mask);
    }

    /// <summary>The IPv4 network as a host-order range.</summary>
    internal (uint First, uint Last) V4Range()
    {
        uint network = Network!.Value.V4HostOrder;
        uint mask = PrefixLength == 0 ? 0 : uint.MaxValue << (32 - PrefixLength);
        return (network & mask, (network & mask) | ~mask);
    }

    /// <summary>The conditions on the record itself (not its context).</summary>
    internal bool MatchesRecord(in FlowRecord r)
    {
        if (FromNs is long from && r.LastNs < from)
        {
            return false;
        }

        if (ToNs is long to && r.FirstNs > to)
        {
            return false;
        }

        if (Vni is uint vni && (r.VnKind == VirtualNetworkKind.None || r.VnId != vni))
        {
            return false;
        }

        if (Port is ushort port && r.SourcePort != port && r.DestinationPort != port)
        {
            return false;
        }

        if (Protocol is byte protocol && r.Protocol != protocol)
        {
            return false;
        }

        return Network is null || InNetwork(in r.SourceAddress, r.IpVersion) || InNetwork(in r.DestinationAddress, r.IpVersion);
    }

    /// <summary>Parses a time: Unix seconds (<c>1700000000.25</c>) or an ISO 8601 date and time (UTC unless it says otherwise).</summary>
    /// <param name="text">The text.</param>
    /// <returns>Unix nanoseconds.</returns>
    /// <exception cref="FormatException">Neither form.</exception>
    public static long ParseTime(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out decimal seconds))
        {
            return (long)(seconds * 1_000_000_000m);
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset t))
        {
            return (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        }

        throw new FormatException($"'{text}' is neither Unix seconds nor an ISO 8601 time");
    }
}
