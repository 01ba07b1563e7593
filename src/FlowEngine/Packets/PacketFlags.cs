// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Packets;

/// <summary>Facts about a decoded packet.</summary>
[Flags]
public enum PacketFlags : ushort
{
    /// <summary>Nothing notable.</summary>
    None = 0,

    /// <summary>The innermost IP packet is a fragment (first or later).</summary>
    Fragment = 1 << 0,

    /// <summary>The innermost IP packet is a fragment other than the first: it has no transport header, and its ports are unknown.</summary>
    NonFirstFragment = 1 << 1,

    /// <summary>The capture holds fewer bytes than the innermost IP packet claims (snap length); counters use the claimed length.</summary>
    SnapTruncated = 1 << 2,

    /// <summary>The transport header is present and its ports (or ICMP type and code) are valid.</summary>
    HasTransport = 1 << 3,

    /// <summary>TCP options were parsed (MSS, window scale, SACK-permitted, timestamps as present).</summary>
    HasTcpOptions = 1 << 4,

    /// <summary>The packet carried at least one Geneve option.</summary>
    HasGeneveOptions = 1 << 5,

    /// <summary>A VXLAN header had reserved bits set (GBP, GPE or other); it was decoded anyway.</summary>
    VxlanReservedBits = 1 << 6,
}
