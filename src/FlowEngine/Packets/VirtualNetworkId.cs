// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Packets;

/// <summary>A virtual network: the kind of identifier and its value.</summary>
/// <param name="Kind">What the identifier is.</param>
/// <param name="Id">VLAN id, VNI or GRE key; 0 for <see cref="VirtualNetworkKind.None"/>.</param>
public readonly record struct VirtualNetworkId(VirtualNetworkKind Kind, uint Id)
{
    /// <summary>The network of untunnelled, untagged traffic.</summary>
    public static VirtualNetworkId None => default;

    /// <summary>The lower-case name used in flow output: none, vlan, vxlan, geneve, gre.</summary>
    public string KindName => KindToName(Kind);

    /// <summary>Returns the output name of a kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>none, vlan, vxlan, geneve or gre.</returns>
    public static string KindToName(VirtualNetworkKind kind) => kind switch
    {
        VirtualNetworkKind.Vlan => "vlan",
        VirtualNetworkKind.Vxlan => "vxlan",
        VirtualNetworkKind.Geneve => "geneve",
        VirtualNetworkKind.Gre => "gre",
        _ => "none",
    };

    /// <inheritdoc/>
    public override string ToString() => Kind == VirtualNetworkKind.None ? "none" : $"{KindName}:{Id}";
}
