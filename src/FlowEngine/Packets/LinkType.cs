// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Packets;

/// <summary>Link-layer header types, numbered as the tcpdump.org LINKTYPE_ registry (used by pcap and pcapng).</summary>
public enum LinkType : ushort
{
    /// <summary>BSD loopback: a 4-byte host-order address family, then the IP packet.</summary>
    Null = 0,

    /// <summary>Ethernet II (with optional 802.1Q/802.1ad tags).</summary>
    Ethernet = 1,

    /// <summary>Raw IP (version taken from the first nibble). DLT_RAW on some platforms.</summary>
    RawLegacy = 12,

    /// <summary>OpenBSD loopback: a 4-byte network-order address family, then the IP packet.</summary>
    Loop = 108,

    /// <summary>Raw IP (version taken from the first nibble).</summary>
    Raw = 101,

    /// <summary>Linux cooked capture v1 (16-byte header).</summary>
    LinuxSll = 113,

    /// <summary>Raw IPv4.</summary>
    IPv4 = 228,

    /// <summary>Raw IPv6.</summary>
    IPv6 = 229,

    /// <summary>Linux cooked capture v2 (20-byte header).</summary>
    LinuxSll2 = 276,
}
