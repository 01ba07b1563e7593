// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Context;

/// <summary>Where a VM's identity came from.</summary>
public enum VmSource : byte
{
    /// <summary>An inventory file (CSV or JSON).</summary>
    Inventory = 0,

    /// <summary>A libvirt domain's XML (interface MACs and bridges).</summary>
    Libvirt = 1,

    /// <summary>Learned from traffic: an address seen as an endpoint inside a virtual network.</summary>
    Learned = 2,
}

/// <summary>
/// One VM (or the gateway of a virtual network): its name, tenant, virtual network, inner address and MAC, role and
/// hypervisor, as far as its <see cref="Source"/> knows them.
/// </summary>
public sealed class VmInfo
{
    /// <summary>Creates a VM's identity.</summary>
    /// <param name="name">Its name (for learned VMs: the virtual network and address, e.g. <c>vni:5001/10.0.0.11</c>).</param>
    /// <param name="source">Where it came from.</param>
    public VmInfo(string name, VmSource source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Source = source;
    }

    /// <summary>The VM's name.</summary>
    public string Name { get; }

    /// <summary>Where the identity came from.</summary>
    public VmSource Source { get; }

    /// <summary>The tenant; null when not known (learned VMs).</summary>
    public string? Tenant { get; init; }

    /// <summary>The virtual network identifier (VXLAN or Geneve VNI) of the VM's interface; null when not known.</summary>
    public uint? Vni { get; init; }

    /// <summary>The inner address; null when not known (libvirt knows only MACs).</summary>
    public IpAddress? Address { get; init; }

    /// <summary>4 or 6 for <see cref="Address"/>; 0 when there is none.</summary>
    public byte IpVersion { get; init; }

    /// <summary>The inner MAC as 48 bits (first octet highest); 0 when not known.</summary>
    public ulong Mac { get; init; }

    /// <summary>The role (web, db, ..., <c>gateway</c>); null when not known.</summary>
    public string? Role { get; init; }

    /// <summary>The hypervisor the VM runs on; null when not known.</summary>
    public string? Hypervisor { get; init; }

    /// <summary>The libvirt bridge or Open vSwitch bridge its interface is attached to; null when not known.</summary>
    public string? Bridge { get; init; }

    /// <summary>True for a virtual network's gateway (router): addresses behind its MAC are outside the network.</summary>
    public bool IsGateway { get; init; }

    /// <summary>The MAC as text, <c>02:00:13:89:00:0b</c>; empty when not known.</summary>
    public string MacText => Mac == 0 ? string.Empty : FormatMac(Mac);

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>A 48-bit MAC as colon-separated lower-case hex.</summary>
    /// <param name="mac">The MAC.</param>
    /// <returns>The text.</returns>
    public static string FormatMac(ulong mac)
        => string.Create(17, mac, static (span, m) =>
        {
            const string Hex = "0123456789abcdef";
            for (int i = 0; i < 6; i++)
            {
                byte b = (byte)(m >> (40 - (8 * i)));
                span[i * 3] = Hex[b >> 4];
                span[(i * 3) + 1] = Hex[b & 15];
                if (i < 5)
                {
                    span[(i * 3) + 2] = ':';
                }
            }
        });

    /// <summary>Parses <c>aa:bb:cc:dd:ee:ff</c> (or with <c>-</c>) into 48 bits.</summary>
    /// <param name="text">The text.</param>
    /// <param name="mac">The MAC.</param>
    /// <returns>False when the text is not a MAC (or is all zeros).</returns>
    public static bool TryParseMac(ReadOnlySpan<char> text, out ulong mac)
    {
        mac = 0;
        text = text.Trim();
        if (text.Length != 17)
        {
            return false;
        }

        char separator = text[2];
        for (int i = 0; i < 6; i++)
        {
            if (i < 5 && (text[(i * 3) + 2] != separator || separator is not (':' or '-')))
            {
                return false;
            }

            if (!byte.TryParse(text.Slice(i * 3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out byte b))
            {
                return false;
            }

            mac = (mac << 8) | b;
        }

        return mac != 0;
    }
}
