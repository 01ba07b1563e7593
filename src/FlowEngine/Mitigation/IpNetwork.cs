// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using FlowEngine.Packets;

namespace FlowEngine.Mitigation;

/// <summary>An address prefix (CIDR): an IPv4 or IPv6 address and a prefix length; a single address has the full length.</summary>
public readonly record struct IpNetwork
{
    private readonly IpAddress _address;

    private IpNetwork(IpAddress address, byte ipVersion, byte prefixLength)
    {
        _address = Mask(address, ipVersion, prefixLength);
        IpVersion = ipVersion;
        PrefixLength = prefixLength;
    }

    /// <summary>The network's first address (host bits cleared).</summary>
    public IpAddress Address => _address;

    /// <summary>4 or 6.</summary>
    public byte IpVersion { get; }

    /// <summary>Leading bits that are fixed: 0 to 32 (IPv4) or 0 to 128 (IPv6).</summary>
    public byte PrefixLength { get; }

    /// <summary>True when the network is one address (/32 or /128).</summary>
    public bool IsHost => PrefixLength == (IpVersion == 4 ? 32 : 128);

    /// <summary>One address as a network.</summary>
    /// <param name="address">The address.</param>
    /// <param name="ipVersion">4 or 6.</param>
    /// <returns>The /32 or /128.</returns>
    public static IpNetwork Host(IpAddress address, int ipVersion) => new(address, ipVersion == 4 ? (byte)4 : (byte)6, ipVersion == 4 ? (byte)32 : (byte)128);

    /// <summary>A network from an address and a prefix length.</summary>
    /// <param name="address">Any address in it (host bits are cleared).</param>
    /// <param name="ipVersion">4 or 6.</param>
    /// <param name="prefixLength">0 to 32 or 0 to 128.</param>
    /// <returns>The network.</returns>
    public static IpNetwork Create(IpAddress address, int ipVersion, int prefixLength)
    {
        if (ipVersion is not (4 or 6))
        {
            throw new ArgumentOutOfRangeException(nameof(ipVersion), ipVersion, "IP version must be 4 or 6");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, ipVersion == 4 ? 32 : 128);
        return new(address, (byte)ipVersion, (byte)prefixLength);
    }

    /// <summary>Parses "10.0.0.0/8", "192.0.2.1", "fd00::/64" or "2001:db8::1".</summary>
    /// <param name="text">The text.</param>
    /// <returns>The network.</returns>
    /// <exception cref="FormatException">Not an address or CIDR.</exception>
    public static IpNetwork Parse(string text) =>
        TryParse(text, out IpNetwork network) ? network : throw new FormatException($"'{text}' is not an IP address or CIDR (e.g. 10.0.0.0/8, 192.0.2.1, fd00::/64)");

    /// <summary>Parses an address or CIDR.</summary>
    /// <param name="text">The text.</param>
    /// <param name="network">The network.</param>
    /// <returns>False when the text is neither.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out IpNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string t = text.Trim();
        int slash = t.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? t : t[..slash];
        // IPAddress also reads the legacy forms "10.1" and "0x0a000001"; a policy file means dotted quads.
        if (!addressText.Contains(':', StringComparison.Ordinal) && (addressText.Count(c => c == '.') != 3 || !addressText.All(c => c == '.' || char.IsAsciiDigit(c))))
        {
            return false;
        }

        if (!IPAddress.TryParse(addressText, out IPAddress? ip) || ip.IsIPv4MappedToIPv6 || (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && ip.ScopeId != 0))
        {
            return false;
        }

        int version = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 4 : 6;
        int max = version == 4 ? 32 : 128;
        int length = max;
        if (slash >= 0 && (!int.TryParse(t.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max))
        {
            return false;
        }

        network = new IpNetwork(IpAddress.From(ip), (byte)version, (byte)length);
        return true;
    }

    /// <summary>True when <paramref name="address"/> (of <paramref name="ipVersion"/>) lies in the network.</summary>
    /// <param name="address">The address.</param>
    /// <param name="ipVersion">Its version.</param>
    /// <returns>Whether it is inside.</returns>
    public bool Contains(in IpAddress address, int ipVersion) => ipVersion == IpVersion && Mask(address, IpVersion, PrefixLength) == _address;

    /// <summary>True when the two networks share an address (one contains the other).</summary>
    /// <param name="other">The other network.</param>
    /// <returns>Whether they overlap.</returns>
    public bool Overlaps(IpNetwork other)
    {
        if (other.IpVersion != IpVersion)
        {
            return false;
        }

        byte shorter = Math.Min(PrefixLength, other.PrefixLength);
        return Mask(_address, IpVersion, shorter) == Mask(other._address, IpVersion, shorter);
    }

    /// <summary>"10.0.0.0/8", or the bare address for a host.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => IsHost ? _address.ToString(IpVersion) : $"{_address.ToString(IpVersion)}/{PrefixLength}";

    /// <summary>Always "address/length" (what nft and tc are given).</summary>
    /// <returns>The text.</returns>
    public string ToCidrString() => $"{_address.ToString(IpVersion)}/{PrefixLength}";

    private static IpAddress Mask(IpAddress address, byte ipVersion, byte prefixLength)
    {
        Span<byte> b = stackalloc byte[16];
        address.WriteBytes(b);
        int bytes = ipVersion == 4 ? 4 : 16;
        for (int i = 0; i < 16; i++)
        {
            int bitsHere = Math.Clamp(prefixLength - (i * 8), 0, 8);
            b[i] = i >= bytes ? (byte)0 : (byte)(b[i] & (byte)(0xFF00 >> bitsHere));
        }

        return ipVersion == 4 ? IpAddress.ReadV4(b) : IpAddress.ReadV6(b);
    }
}
