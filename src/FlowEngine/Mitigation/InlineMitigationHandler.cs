// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Mitigation;

/// <summary>
/// The inline handler: enforces actions on the engine's own forwarding path, as the <see cref="IFlowVerdict"/> of
/// <see cref="FlowPipeline{TExtension}.ProcessInlineBatch"/>. Flow actions (shape or block a flow) and address
/// shaping (one bucket shared by all flows of a VM) are token buckets of a <see cref="FlowShaper"/>: the first packet
/// of a matching flow finds the bucket by lookup and marks the flow's slot <see cref="FlowAction.Shape"/>, every
/// later packet is admitted from the slot's mark with no lookup. Address blocks and isolation are rules of a
/// <see cref="MitigationTable"/>. Reverting removes the bucket (flows carrying its mark are decided afresh) or the rule.
/// </summary>
/// <remarks>
/// Inline address actions are per address (a /32 or /128, one rule per address); wider networks and several rules on
/// one address are the nftables handler's. Flow actions need TCP or UDP.
/// </remarks>
public sealed class InlineMitigationHandler : IMitigationHandler, IFlowVerdict
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Applied> _applied = new(StringComparer.Ordinal);
    private Rules _rules = Rules.Empty;

    /// <summary>Creates the handler.</summary>
    /// <param name="buckets">Shaped or blocked flows and shaped addresses at once (1 to <see cref="FlowShaper.MaxCapacity"/>).</param>
    public InlineMitigationHandler(int buckets = 1024)
    {
        Shaper = new FlowShaper(buckets);
    }

    /// <inheritdoc/>
    public string Name => "inline";

    /// <summary>The address rules (block, isolate), and the packet counters of every packet they saw.</summary>
    public MitigationTable Table { get; } = new();

    /// <summary>The token buckets of shaped and blocked flows and shaped addresses.</summary>
    public FlowShaper Shaper { get; }

    /// <summary>Actions in force.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _applied.Count;
            }
        }
    }

    /// <summary>The bucket mark of a flow or address-shape action in force (for its counters, <see cref="FlowShaper.TryGetCounts"/>).</summary>
    /// <param name="key">The action's key.</param>
    /// <param name="mark">The mark.</param>
    /// <returns>False when no such action uses a bucket.</returns>
    public bool TryGetMark(string key, out uint mark)
    {
        lock (_gate)
        {
            mark = _applied.TryGetValue(key, out Applied? a) ? a.Mark : 0;
            return mark != 0;
        }
    }

    /// <inheritdoc/>
    public void Apply(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            if (_applied.ContainsKey(action.Key))
            {
                return;
            }

            if (action.Flow is FlowIdentity f)
            {
                if (f.Protocol is not (6 or 17))
                {
                    throw new MitigationHandlerException($"inline: flow actions need TCP or UDP, not {MitigationRequest.ProtocolName(f.Protocol)}");
                }

                FlowSelector selector = FlowSelector.Ports(f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Network);
                uint mark = AddBucket(action.Kind == MitigationKind.Shape ? action.Rate : null);
                Publish(new Rules(new Dictionary<FlowSelector, uint>(_rules.Flows) { [selector] = mark }, _rules.Addresses));
                _applied[action.Key] = new Applied(mark, selector, default);
                return;
            }

            IpNetwork address = action.Address!.Value;
            if (!address.IsHost)
            {
                throw new MitigationHandlerException($"inline: address actions are per address, not for the network {address} (use nftables)");
            }

            var key = (address.Address, action.Network);
            if (action.Kind == MitigationKind.Shape)
            {
                if (_rules.Addresses.ContainsKey(key))
                {
                    throw new MitigationHandlerException($"inline: {address} is already shaped by another action");
                }

                uint mark = AddBucket(action.Rate);
                Publish(new Rules(_rules.Flows, new Dictionary<(IpAddress, VirtualNetworkId), uint>(_rules.Addresses) { [key] = mark }));
                _applied[action.Key] = new Applied(mark, null, key);
                return;
            }

            if (_applied.Values.Any(a => a.Mark == 0 && a.Address == key))
            {
                throw new MitigationHandlerException($"inline: {address} already has an address rule (one per address inline; use nftables for several)");
            }

            Table.SetAddress(address.Address, action.Network, action.Kind == MitigationKind.Isolate
                ? MitigationRule.Isolate(action.Allow)
                : MitigationRule.Block(action.Direction, action.Protocol, action.Port));
            _applied[action.Key] = new Applied(0, null, key);
        }
    }

    /// <inheritdoc/>
    public void Revert(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            if (_applied.Remove(action.Key, out Applied? a))
            {
                RevertLocked(a);
            }
        }
    }

    /// <summary>Reverts everything.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (Applied a in _applied.Values)
            {
                RevertLocked(a);
            }

            _applied.Clear();
        }
    }

    /// <inheritdoc/>
    public PacketVerdict Decide(in DecodedPacket packet)
    {
        uint mark = 0;
        return Decide(in packet, ref mark);
    }

    /// <inheritdoc/>
    public PacketVerdict Decide(in DecodedPacket packet, ref uint flowMark)
    {
        if ((FlowAction)(byte)flowMark == FlowAction.Shape)
        {
            int admitted = Shaper.Admit(flowMark, packet.WireLength, packet.TimestampNs);
            if (admitted == (int)PacketVerdict.Drop)
            {
                return PacketVerdict.Drop;
            }

            if (admitted == FlowShaper.Stale)
            {
                flowMark = 0;
            }
            else
            {
                return Table.Count == 0 ? PacketVerdict.Forward : Table.Decide(in packet);
            }
        }

        Rules rules = Volatile.Read(ref _rules);
        if (!rules.IsEmpty)
        {
            uint mark = 0;
            if (rules.Flows.Count != 0 && packet.Protocol is 6 or 17)
            {
                rules.Flows.TryGetValue(FlowSelector.Of(in packet), out mark);
            }

            if (mark == 0 && rules.Addresses.Count != 0 && !rules.Addresses.TryGetValue((packet.Source, packet.VirtualNetwork), out mark))
            {
                rules.Addresses.TryGetValue((packet.Destination, packet.VirtualNetwork), out mark);
            }

            if (mark != 0)
            {
                flowMark = mark;
                if (Shaper.Admit(mark, packet.WireLength, packet.TimestampNs) == (int)PacketVerdict.Drop)
                {
                    return PacketVerdict.Drop;
                }
            }
        }

        return Table.Decide(in packet);
    }

    private uint AddBucket(ShapeRate? rate)
    {
        try
        {
            return Shaper.Add(rate);
        }
        catch (InvalidOperationException e)
        {
            throw new MitigationHandlerException("inline: " + e.Message, e);
        }
    }

    private void RevertLocked(Applied a)
    {
        if (a.Mark == 0)
        {
            Table.RemoveAddress(a.Address.Item1, a.Address.Item2);
            return;
        }

        Publish(a.Flow is FlowSelector selector
            ? new Rules(Without(_rules.Flows, selector), _rules.Addresses)
            : new Rules(_rules.Flows, Without(_rules.Addresses, a.Address)));
        Shaper.Remove(a.Mark);
    }

    private static Dictionary<TKey, uint> Without<TKey>(Dictionary<TKey, uint> d, TKey key)
        where TKey : notnull
    {
        var copy = new Dictionary<TKey, uint>(d);
        copy.Remove(key);
        return copy;
    }

    private void Publish(Rules rules) => Volatile.Write(ref _rules, rules);

    private sealed record Applied(uint Mark, FlowSelector? Flow, (IpAddress, VirtualNetworkId) Address);

    private sealed class Rules(Dictionary<FlowSelector, uint> flows, Dictionary<(IpAddress, VirtualNetworkId), uint> addresses)
    {
        public static readonly Rules Empty = new([], []);

        public Dictionary<FlowSelector, uint> Flows { get; } = flows;

        public Dictionary<(IpAddress, VirtualNetworkId), uint> Addresses { get; } = addresses;

        public bool IsEmpty { get; } = flows.Count == 0 && addresses.Count == 0;
    }
}
