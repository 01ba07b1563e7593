// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Benchmarks.Synthetic;

/// <summary>How generated frames are wrapped for the underlay.</summary>
public enum Encapsulation
{
    /// <summary>No tunnel: the tenant frame as seen on a tap inside the virtual network.</summary>
    Plain,

    /// <summary>Outer Ethernet/IPv4/UDP 4789/VXLAN (RFC 7348).</summary>
    Vxlan,

    /// <summary>Outer Ethernet/IPv4/UDP 6081/Geneve (RFC 8926) with one 8-byte option, as OVN sends.</summary>
    Geneve,
}
