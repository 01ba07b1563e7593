// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Mitigation;

/// <summary>
/// One mitigation action for a handler: shape, block or isolate, aimed at one flow (<see cref="Flow"/>) or at an
/// address or network (<see cref="Address"/>) within a virtual network. Two requests with the same <see cref="Key"/>
/// are the same action (the key leaves out the rate, the TTL and the cause).
/// </summary>
public sealed class MitigationRequest
{
    private static readonly IReadOnlyList<IpNetwork> s_noNetworks = [];

    private MitigationRequest(MitigationKind kind, VirtualNetworkId network, IpNetwork? address, FlowIdentity? flow, TrafficDirection direction, byte protocol, ushort port, ShapeRate? rate, IReadOnlyList<IpNetwork>? allow)
    {
        Kind = kind;
        Network = network;
        Address = address;
        Flow = flow;
        Direction = direction;
        Protocol = protocol;
        Port = port;
        Rate = rate;
        Allow = allow ?? s_noNetworks;
        Key = BuildKey();
    }

    /// <summary>Shape, block or isolate.</summary>
    public MitigationKind Kind { get; }

    /// <summary>The virtual network the action is confined to; <see cref="VirtualNetworkId.None"/> for untunnelled traffic.</summary>
    public VirtualNetworkId Network { get; }

    /// <summary>The address or network acted on (address-level actions); null for a flow action.</summary>
    public IpNetwork? Address { get; }

    /// <summary>The flow acted on, both directions (flow-level actions); null for an address action.</summary>
    public FlowIdentity? Flow { get; }

    /// <summary>Address-level block: which packets of <see cref="Address"/> (from it, to it, or both).</summary>
    public TrafficDirection Direction { get; }

    /// <summary>Address-level block: the IP protocol matched; 0 for any.</summary>
    public byte Protocol { get; }

    /// <summary>Address-level block: the destination port of the dropped packets; 0 for any (needs a TCP or UDP <see cref="Protocol"/>).</summary>
    public ushort Port { get; }

    /// <summary>Shape: the rate.</summary>
    public ShapeRate? Rate { get; }

    /// <summary>Isolate: the networks the VM may still talk to (management, gateways, resolvers).</summary>
    public IReadOnlyList<IpNetwork> Allow { get; }

    /// <summary>The VM's name when known (the tc handler finds the VM's interface by it).</summary>
    public string? Vm { get; init; }

    /// <summary>How long the action stays in force before it is reverted.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The alert that caused the action, when there is one.</summary>
    public Alert? Cause { get; init; }

    /// <summary>Identifies the action: the same key is the same action (de-duplication, handler bookkeeping).</summary>
    public string Key { get; }

    /// <summary>Shapes one flow (both directions) to a rate.</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="rate">The rate.</param>
    /// <returns>The request.</returns>
    public static MitigationRequest ShapeFlow(FlowIdentity flow, ShapeRate rate) =>
        new(MitigationKind.Shape, flow.Network, null, flow, TrafficDirection.Both, flow.Protocol, 0, rate, null);

    /// <summary>Shapes every packet from or to an address (a VM) to one rate, shared by all its flows.</summary>
    /// <param name="address">The address or network.</param>
    /// <param name="network">The virtual network.</param>
    /// <param name="rate">The rate.</param>
    /// <returns>The request.</returns>
    public static MitigationRequest ShapeAddress(IpNetwork address, VirtualNetworkId network, ShapeRate rate) =>
        new(MitigationKind.Shape, network, address, null, TrafficDirection.Both, 0, 0, rate, null);

    /// <summary>Drops every packet of one flow, both directions.</summary>
    /// <param name="flow">The flow.</param>
    /// <returns>The request.</returns>
    public static MitigationRequest BlockFlow(FlowIdentity flow) =>
        new(MitigationKind.Block, flow.Network, null, flow, TrafficDirection.Both, flow.Protocol, 0, null, null);

    /// <summary>Drops the packets of an address or network, optionally of one direction, protocol and destination port.</summary>
    /// <param name="address">The address or network.</param>
    /// <param name="network">The virtual network.</param>
    /// <param name="direction">From it, to it, or both.</param>
    /// <param name="protocol">IP protocol; 0 for any.</param>
    /// <param name="port">Destination port of the dropped packets; 0 for any. Needs protocol 6 (TCP) or 17 (UDP).</param>
    /// <returns>The request.</returns>
    public static MitigationRequest BlockAddress(IpNetwork address, VirtualNetworkId network, TrafficDirection direction = TrafficDirection.Both, byte protocol = 0, ushort port = 0)
    {
        if (port != 0 && protocol is not (6 or 17))
        {
            throw new ArgumentException($"a port needs protocol tcp (6) or udp (17), not {protocol}", nameof(port));
        }

        return new(MitigationKind.Block, network, address, null, direction, protocol, port, null, null);
    }

    /// <summary>Isolates an address (a VM): nothing from or to it passes unless the other end is in <paramref name="allow"/>.</summary>
    /// <param name="address">The VM's address.</param>
    /// <param name="network">The virtual network.</param>
    /// <param name="allow">What it may still talk to.</param>
    /// <returns>The request.</returns>
    public static MitigationRequest Isolate(IpNetwork address, VirtualNetworkId network, IReadOnlyList<IpNetwork> allow)
    {
        ArgumentNullException.ThrowIfNull(allow);
        return new(MitigationKind.Isolate, network, address, null, TrafficDirection.Both, 0, 0, null, [.. allow]);
    }

    /// <summary>The same action with another TTL, VM name and cause.</summary>
    /// <param name="ttl">How long it stays in force.</param>
    /// <param name="vm">The VM's name, or null.</param>
    /// <param name="cause">The alert, or null.</param>
    /// <returns>A new request with the same key.</returns>
    public MitigationRequest With(TimeSpan ttl, string? vm, Alert? cause)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        return new(Kind, Network, Address, Flow, Direction, Protocol, Port, Rate, Allow) { Ttl = ttl, Vm = vm, Cause = cause };
    }

    /// <summary>A readable one-line description (the key plus the rate).</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Rate is ShapeRate r ? $"{Key} to {r}" : Key;

    /// <summary>The flow's protocol name for keys and rules: tcp, udp, icmp, or the number.</summary>
    /// <param name="protocol">IP protocol number.</param>
    /// <returns>The name.</returns>
    public static string ProtocolName(byte protocol) => protocol switch
    {
        0 => "any",
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        58 => "icmpv6",
        _ => protocol.ToString(CultureInfo.InvariantCulture),
    };

    private string BuildKey()
    {
        string kind = Kind switch { MitigationKind.Shape => "shape", MitigationKind.Block => "block", _ => "isolate" };
        string vn = Network.ToString();
        if (Flow is FlowIdentity f)
        {
            string a = Endpoint(f.Source, f.SourcePort, f.IpVersion);
            string b = Endpoint(f.Destination, f.DestinationPort, f.IpVersion);
            if (string.CompareOrdinal(a, b) > 0)
            {
                (a, b) = (b, a);
            }

            return $"{kind} flow {vn} {ProtocolName(f.Protocol)} {a}<->{b}";
        }

        string target = Address!.Value.ToString();
        return Kind switch
        {
            MitigationKind.Block => string.Create(CultureInfo.InvariantCulture, $"{kind} {vn} {target} {Direction.ToString().ToLowerInvariant()} {ProtocolName(Protocol)} port {(Port == 0 ? "any" : Port.ToString(CultureInfo.InvariantCulture))}"),
            _ => $"{kind} {vn} {target}",
        };
    }

    private static string Endpoint(IpAddress address, ushort port, byte ipVersion) =>
        ipVersion == 6 ? $"[{address.ToString(6)}]:{port}" : $"{address.ToString(4)}:{port}";
}
