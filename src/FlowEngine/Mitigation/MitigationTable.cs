// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Mitigation;

/// <summary>
/// Mitigation rules per flow and per address (a VM: its address in a virtual network, as source or destination),
/// as an <see cref="IPacketVerdict"/>. A flow rule wins over an address rule; an address rule may be narrowed to a
/// direction, protocol and port, or isolate the address except for an allowlist (<see cref="MitigationRule"/>); the
/// source's rule is asked before the destination's; packets no rule matches are forwarded. Rules are changed from any thread; <see cref="Decide"/> runs on one data-plane thread.
/// </summary>
/// <remarks>
/// Changes build a new immutable snapshot under a lock and publish it with one volatile write; the data plane
/// reads the snapshot once per packet and never locks. A rule's token bucket lives in the rule and is touched
/// only by the data plane; replacing a rule starts a full bucket. Rate limits run on packet time.
/// </remarks>
public sealed class MitigationTable : IPacketVerdict
{
    private readonly Lock _gate = new();
    private Snapshot _snapshot = Snapshot.Empty;
    private long _forwarded;
    private long _dropped;

    /// <summary>Packets forwarded by <see cref="Decide"/>.</summary>
    public long Forwarded => Volatile.Read(ref _forwarded);

    /// <summary>Packets dropped by <see cref="Decide"/>.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Rules in force.</summary>
    public int Count
    {
        get
        {
            Snapshot s = Volatile.Read(ref _snapshot);
            return s.Flows.Count + s.Addresses.Count;
        }
    }

    /// <summary>Adds or replaces the rule of one flow.</summary>
    /// <param name="flow">The flow (both directions).</param>
    /// <param name="rule">The rule.</param>
    public void SetFlow(FlowSelector flow, MitigationRule rule) =>
        Change(s => new Snapshot(new Dictionary<FlowSelector, RuleState>(s.Flows) { [flow] = new RuleState(rule) }, s.Addresses));

    /// <summary>Adds or replaces the rule of one address: every packet from or to it.</summary>
    /// <param name="address">The address.</param>
    /// <param name="network">Its virtual network; <see cref="VirtualNetworkId.None"/> for untunnelled traffic.</param>
    /// <param name="rule">The rule.</param>
    public void SetAddress(IpAddress address, VirtualNetworkId network, MitigationRule rule) =>
        Change(s => new Snapshot(s.Flows, new Dictionary<(IpAddress, VirtualNetworkId), RuleState>(s.Addresses) { [(address, network)] = new RuleState(rule) }));

    /// <summary>Removes the rule of one flow.</summary>
    /// <param name="flow">The flow.</param>
    /// <returns>True when there was one.</returns>
    public bool RemoveFlow(FlowSelector flow)
    {
        bool removed = false;
        Change(s =>
        {
            var flows = new Dictionary<FlowSelector, RuleState>(s.Flows);
            removed = flows.Remove(flow);
            return new Snapshot(flows, s.Addresses);
        });
        return removed;
    }

    /// <summary>Removes the rule of one address.</summary>
    /// <param name="address">The address.</param>
    /// <param name="network">Its virtual network.</param>
    /// <returns>True when there was one.</returns>
    public bool RemoveAddress(IpAddress address, VirtualNetworkId network)
    {
        bool removed = false;
        Change(s =>
        {
            var addresses = new Dictionary<(IpAddress, VirtualNetworkId), RuleState>(s.Addresses);
            removed = addresses.Remove((address, network));
            return new Snapshot(s.Flows, addresses);
        });
        return removed;
    }

    /// <summary>Removes every rule.</summary>
    public void Clear() => Change(_ => Snapshot.Empty);

    /// <inheritdoc/>
    public PacketVerdict Decide(in DecodedPacket packet)
    {
        Snapshot s = Volatile.Read(ref _snapshot);
        PacketVerdict verdict = PacketVerdict.Forward;
        if (!s.IsEmpty)
        {
            RuleState? rule = null;
            if (s.Flows.Count != 0)
            {
                s.Flows.TryGetValue(FlowSelector.Of(in packet), out rule);
            }

            if (rule is not null)
            {
                verdict = rule.Decide(packet.TimestampNs);
            }
            else if (s.Addresses.Count != 0)
            {
                VirtualNetworkId network = packet.VirtualNetwork;
                if (s.Addresses.TryGetValue((packet.Source, network), out rule) && rule.Matches(in packet, fromAddress: true))
                {
                    verdict = rule.Decide(packet.TimestampNs);
                }
                else if (s.Addresses.TryGetValue((packet.Destination, network), out rule) && rule.Matches(in packet, fromAddress: false))
                {
                    verdict = rule.Decide(packet.TimestampNs);
                }
            }
        }

        if (verdict == PacketVerdict.Forward)
        {
            _forwarded++;
        }
        else
        {
            _dropped++;
        }

        return verdict;
    }

    private void Change(Func<Snapshot, Snapshot> change)
    {
        lock (_gate)
        {
            Volatile.Write(ref _snapshot, change(_snapshot));
        }
    }

    private sealed class Snapshot(Dictionary<FlowSelector, RuleState> flows, Dictionary<(IpAddress, VirtualNetworkId), RuleState> addresses)
    {
        public static readonly Snapshot Empty = new([], []);

        public Dictionary<FlowSelector, RuleState> Flows { get; } = flows;

        public Dictionary<(IpAddress, VirtualNetworkId), RuleState> Addresses { get; } = addresses;

        public bool IsEmpty { get; } = flows.Count == 0 && addresses.Count == 0;
    }

    private sealed class RuleState(MitigationRule rule)
    {
        private readonly MitigationAction _action = rule.Action;
        private readonly TrafficDirection _direction = rule.Direction;
        private readonly byte _protocol = rule.Protocol;
        private readonly ushort _port = rule.Port;
        private readonly IpNetwork[] _allow = [.. rule.Allow];
        private readonly double _tokensPerNs = rule.PacketsPerSecond / 1e9;
        private readonly double _burst = rule.Burst;
        private double _tokens = rule.Burst;
        private long _lastNs = long.MinValue;

        // Whether an address rule applies to a packet from (or to) its address: direction, protocol, port and, for
        // isolation, an other end outside the allowlist.
        public bool Matches(in DecodedPacket packet, bool fromAddress)
        {
            if ((_direction == TrafficDirection.Outbound && !fromAddress) || (_direction == TrafficDirection.Inbound && fromAddress)
                || (_protocol != 0 && packet.Protocol != _protocol) || (_port != 0 && packet.DestinationPort != _port))
            {
                return false;
            }

            if (_action == MitigationAction.Isolate)
            {
                IpAddress other = fromAddress ? packet.Destination : packet.Source;
                foreach (IpNetwork n in _allow)
                {
                    if (n.Contains(in other, packet.IpVersion))
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        public PacketVerdict Decide(long nowNs)
        {
            if (_action is MitigationAction.Drop or MitigationAction.Isolate)
            {
                return PacketVerdict.Drop;
            }

            if (_lastNs != long.MinValue && nowNs > _lastNs)
            {
                _tokens = Math.Min(_burst, _tokens + ((nowNs - _lastNs) * _tokensPerNs));
            }

            if (nowNs > _lastNs)
            {
                _lastNs = nowNs;
            }

            if (_tokens >= 1)
            {
                _tokens -= 1;
                return PacketVerdict.Forward;
            }

            return PacketVerdict.Drop;
        }
    }
}
