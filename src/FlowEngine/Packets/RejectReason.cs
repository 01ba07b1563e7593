// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Packets;

/// <summary>Why the decoder rejected a packet. Every rejected packet is counted under exactly one reason.</summary>
public enum RejectReason : byte
{
    /// <summary>Not rejected.</summary>
    None = 0,

    /// <summary>A header is cut short by the end of the captured bytes.</summary>
    Truncated,

    /// <summary>A header length field is smaller than the minimum or points past the packet.</summary>
    BadHeaderLength,

    /// <summary>An IP total length or payload length disagrees with the header or is smaller than it.</summary>
    BadTotalLength,

    /// <summary>The IP version nibble is neither 4 nor 6 where an IP header must start.</summary>
    BadIpVersion,

    /// <summary>The capture's link type is not one the decoder understands.</summary>
    UnsupportedLinkType,

    /// <summary>The frame carries something other than IP (ARP, LLDP, ...).</summary>
    NonIp,

    /// <summary>A tunnel header with an unsupported version or payload type.</summary>
    UnsupportedTunnel,

    /// <summary>More nested tunnels or VLAN tags than the configured limit.</summary>
    NestingTooDeep,

    /// <summary>An IPv4 or IPv6 fragment that is not the first one; it carries no transport header.</summary>
    NonFirstFragment,

    /// <summary>A header field holds a value that no valid packet has (a zero TCP data offset, a reserved bit pattern, ...).</summary>
    Malformed,
}
