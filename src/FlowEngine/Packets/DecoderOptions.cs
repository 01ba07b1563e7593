// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Packets;

/// <summary>Settings of a <see cref="PacketDecoder"/>. Read once when the decoder is built.</summary>
public sealed class DecoderOptions
{
    /// <summary>UDP destination ports decoded as VXLAN (RFC 7348). Default: 4789. Add 8472 for the Linux kernel's legacy port.</summary>
    public IList<ushort> VxlanPorts { get; } = new List<ushort> { 4789 };

    /// <summary>UDP destination ports decoded as VXLAN-GPE (next-protocol field). Default: 4790.</summary>
    public IList<ushort> VxlanGpePorts { get; } = new List<ushort> { 4790 };

    /// <summary>UDP destination ports decoded as Geneve (RFC 8926). Default: 6081.</summary>
    public IList<ushort> GenevePorts { get; } = new List<ushort> { 6081 };

    /// <summary>UDP destination ports decoded as GRE-in-UDP (RFC 8086). Default: 4754.</summary>
    public IList<ushort> GreInUdpPorts { get; } = new List<ushort> { 4754 };

    /// <summary>Most tunnel encapsulations removed from one frame before it is rejected with <see cref="RejectReason.NestingTooDeep"/>. Default: 8.</summary>
    public int MaxTunnelDepth { get; set; } = 8;

    /// <summary>Most VLAN tags and MPLS labels in one frame before it is rejected with <see cref="RejectReason.NestingTooDeep"/>. Default: 8.</summary>
    public int MaxTags { get; set; } = 8;

    /// <summary>Most IPv6 extension headers in one IPv6 header chain. Default: 16.</summary>
    public int MaxIPv6ExtensionHeaders { get; set; } = 16;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTunnelDepth, 0, nameof(MaxTunnelDepth));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxTunnelDepth, 64, nameof(MaxTunnelDepth));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTags, 0, nameof(MaxTags));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxTags, 64, nameof(MaxTags));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIPv6ExtensionHeaders, 0, nameof(MaxIPv6ExtensionHeaders));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxIPv6ExtensionHeaders, 64, nameof(MaxIPv6ExtensionHeaders));
    }
}
