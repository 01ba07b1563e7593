// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Mitigation;

/// <summary>
/// One flow for a mitigation rule, in both directions: protocol, the two endpoints (address and port, or the ICMP
/// echo identifier) and the virtual network. The endpoints are kept in canonical order, so A-to-B and B-to-A
/// select the same flow.
/// </summary>
public readonly record struct FlowSelector
{
    private readonly IpAddress _lowAddress;
    private readonly IpAddress _highAddress;
    private readonly ushort _lowPort;
    private readonly ushort _highPort;
    private readonly ushort _icmpId;
    private readonly byte _protocol;
    private readonly VirtualNetworkId _network;

    private FlowSelector(byte protocol, IpAddress a, ushort portA, IpAddress b, ushort portB, ushort icmpId, VirtualNetworkId network)
    {
        int c = a.CompareTo(b);
        if (c < 0 || (c == 0 && portA <= portB))
        {
            (_lowAddress, _lowPort, _highAddress, _highPort) = (a, portA, b, portB);
        }
        else
        {
            (_lowAddress, _lowPort, _highAddress, _highPort) = (b, portB, a, portA);
        }

        _protocol = protocol;
        _icmpId = icmpId;
        _network = network;
    }

    /// <summary>IP protocol number.</summary>
    public byte Protocol => _protocol;

    /// <summary>A TCP or UDP flow (protocol 6 or 17, or any protocol with ports).</summary>
    /// <param name="protocol">IP protocol number.</param>
    /// <param name="a">One endpoint's address.</param>
    /// <param name="portA">Its port.</param>
    /// <param name="b">The other endpoint's address.</param>
    /// <param name="portB">Its port.</param>
    /// <param name="network">The virtual network; <see cref="VirtualNetworkId.None"/> for untunnelled traffic.</param>
    /// <returns>The selector.</returns>
    public static FlowSelector Ports(byte protocol, IpAddress a, ushort portA, IpAddress b, ushort portB, VirtualNetworkId network = default) =>
        new(protocol, a, portA, b, portB, 0, network);

    /// <summary>An ICMP (or ICMPv6) echo flow: both addresses and the echo identifier.</summary>
    /// <param name="protocol">1 or 58.</param>
    /// <param name="a">One endpoint's address.</param>
    /// <param name="b">The other endpoint's address.</param>
    /// <param name="icmpId">The echo identifier.</param>
    /// <param name="network">The virtual network.</param>
    /// <returns>The selector.</returns>
    public static FlowSelector IcmpEcho(byte protocol, IpAddress a, IpAddress b, ushort icmpId, VirtualNetworkId network = default) =>
        new(protocol, a, 0, b, 0, icmpId, network);

    /// <summary>The flow of a decoded packet: innermost addresses, ports (none for ICMP: the echo identifier instead) and virtual network.</summary>
    /// <param name="packet">The packet.</param>
    /// <returns>The selector.</returns>
    public static FlowSelector Of(in DecodedPacket packet) => packet.Protocol is IpProtocol.Icmp or IpProtocol.IcmpV6
        ? new(packet.Protocol, packet.Source, 0, packet.Destination, 0, packet.IcmpId, packet.VirtualNetwork)
        : new(packet.Protocol, packet.Source, packet.SourcePort, packet.Destination, packet.DestinationPort, 0, packet.VirtualNetwork);
}
