// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>
/// Ports for non-first fragments: the first fragment of a datagram leaves its ports under the datagram's exact key
/// (addresses, virtual network, protocol, identification); later fragments take them from there. The cache holds the
/// last <see cref="FragmentCacheSize"/> datagrams, oldest out first, so whether a fragment finds its ports depends on
/// the packets only, never on the hash seed.
/// </summary>
public partial class FlowTable<TExtension>
{
    private const int FragmentCacheSize = 4096;

    private readonly Dictionary<FragmentKey, FragmentPorts> _fragments;

    // Keys in insertion order (a ring): the oldest leaves when a new datagram needs room.
    private readonly FragmentKey[] _fragmentOrder;
    private int _fragmentNext;

    // Non-first fragments carry no ports: they take those of the first fragment of the same datagram.
    private bool ResolveFragment(in DecodedPacket p, ref ushort sourcePort, ref ushort destinationPort, ref ushort icmpId)
    {
        var key = new FragmentKey(p.Source, p.Destination, p.VnId, p.FragmentId, p.VnKind, p.IpVersion, p.Protocol);
        if ((p.Flags & PacketFlags.NonFirstFragment) == 0)
        {
            if ((p.Flags & PacketFlags.HasTransport) != 0 || p.Protocol is not (IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Icmp or IpProtocol.IcmpV6 or IpProtocol.Sctp or IpProtocol.Dccp or IpProtocol.UdpLite))
            {
                var ports = new FragmentPorts(p.SourcePort, p.DestinationPort, p.IcmpId);
                ref FragmentPorts existing = ref CollectionsMarshal.GetValueRefOrNullRef(_fragments, key);
                if (!Unsafe.IsNullRef(ref existing))
                {
                    existing = ports;
                }
                else
                {
                    if (_fragments.Count == FragmentCacheSize)
                    {
                        _fragments.Remove(_fragmentOrder[_fragmentNext]);
                    }

                    _fragments.Add(key, ports);
                    _fragmentOrder[_fragmentNext] = key;
                    _fragmentNext = (_fragmentNext + 1) % FragmentCacheSize;
                }
            }

            return true;
        }

        if (!_fragments.TryGetValue(key, out FragmentPorts found))
        {
            return false;
        }

        sourcePort = found.SourcePort;
        destinationPort = found.DestinationPort;
        icmpId = found.IcmpId;
        return true;
    }

    private readonly record struct FragmentKey(IpAddress Source, IpAddress Destination, uint VnId, uint FragmentId, VirtualNetworkKind VnKind, byte IpVersion, byte Protocol);

    private readonly record struct FragmentPorts(ushort SourcePort, ushort DestinationPort, ushort IcmpId);
}
