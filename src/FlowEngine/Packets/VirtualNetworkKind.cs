// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Packets;

/// <summary>What names the virtual network a packet belongs to.</summary>
public enum VirtualNetworkKind : byte
{
    /// <summary>No tunnel and no VLAN tag.</summary>
    None = 0,

    /// <summary>An 802.1Q VLAN tag (the innermost tag, when no tunnel names the network).</summary>
    Vlan = 1,

    /// <summary>A VXLAN network identifier (24 bits).</summary>
    Vxlan = 2,

    /// <summary>A Geneve virtual network identifier (24 bits).</summary>
    Geneve = 3,

    /// <summary>A GRE key (32 bits; for NVGRE the 24-bit VSID is its upper part).</summary>
    Gre = 4,
}
