// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Packets;

/// <summary>IANA "Assigned Internet Protocol Numbers" that FlowEngine's decoders and tables act on, named once.</summary>
internal static class IpProtocol
{
    /// <summary>IPv6 Hop-by-Hop Options (RFC 8200).</summary>
    public const byte HopByHop = 0;

    /// <summary>ICMP (RFC 792).</summary>
    public const byte Icmp = 1;

    /// <summary>IPv4 in IP (RFC 2003).</summary>
    public const byte IPv4 = 4;

    /// <summary>TCP.</summary>
    public const byte Tcp = 6;

    /// <summary>UDP.</summary>
    public const byte Udp = 17;

    /// <summary>DCCP (RFC 4340).</summary>
    public const byte Dccp = 33;

    /// <summary>IPv6 in IP (RFC 2473).</summary>
    public const byte IPv6 = 41;

    /// <summary>IPv6 Routing header.</summary>
    public const byte Routing = 43;

    /// <summary>IPv6 Fragment header.</summary>
    public const byte Fragment = 44;

    /// <summary>GRE (RFC 2784).</summary>
    public const byte Gre = 47;

    /// <summary>Authentication Header (RFC 4302).</summary>
    public const byte AuthenticationHeader = 51;

    /// <summary>ICMPv6 (RFC 4443).</summary>
    public const byte IcmpV6 = 58;

    /// <summary>IPv6 Destination Options.</summary>
    public const byte DestinationOptions = 60;

    /// <summary>SCTP (RFC 9260).</summary>
    public const byte Sctp = 132;

    /// <summary>Mobility header (RFC 6275).</summary>
    public const byte Mobility = 135;

    /// <summary>UDP-Lite (RFC 3828).</summary>
    public const byte UdpLite = 136;

    /// <summary>Host Identity Protocol (RFC 7401).</summary>
    public const byte Hip = 139;

    /// <summary>Shim6 (RFC 5533).</summary>
    public const byte Shim6 = 140;
}
