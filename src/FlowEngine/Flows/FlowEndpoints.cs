// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>A flow's key, oriented from its originator: virtual network, addresses, ports and protocol.</summary>
public readonly struct FlowEndpoints
{
    internal FlowEndpoints(VirtualNetworkId network, IpAddress source, IpAddress destination, ushort sourcePort, ushort destinationPort, ushort icmpId, byte protocol, byte ipVersion)
    {
        VirtualNetwork = network;
        Source = source;
        Destination = destination;
        SourcePort = sourcePort;
        DestinationPort = destinationPort;
        IcmpId = icmpId;
        Protocol = protocol;
        IpVersion = ipVersion;
    }

    /// <summary>The virtual network.</summary>
    public VirtualNetworkId VirtualNetwork { get; }

    /// <summary>Originator address.</summary>
    public IpAddress Source { get; }

    /// <summary>Responder address.</summary>
    public IpAddress Destination { get; }

    /// <summary>Originator port (ICMP: the originator's type).</summary>
    public ushort SourcePort { get; }

    /// <summary>Responder port (ICMP: the counterpart type or the code).</summary>
    public ushort DestinationPort { get; }

    /// <summary>ICMP identifier of echo-like flows, 0 otherwise.</summary>
    public ushort IcmpId { get; }

    /// <summary>IP protocol (IANA number).</summary>
    public byte Protocol { get; }

    /// <summary>IP version, 4 or 6.</summary>
    public byte IpVersion { get; }
}
