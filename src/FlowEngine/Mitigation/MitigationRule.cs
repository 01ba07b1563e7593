// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>
/// A mitigation rule: drop, rate-limit to <see cref="PacketsPerSecond"/> with bursts of <see cref="Burst"/> packets,
/// or isolate. An address rule can be narrowed to a <see cref="Direction"/>, a <see cref="Protocol"/> and a
/// destination <see cref="Port"/>; packets of the address it does not match go on to the other end's rule.
/// </summary>
public readonly record struct MitigationRule
{
    private static readonly IReadOnlyList<IpNetwork> s_noNetworks = [];

    private MitigationRule(MitigationAction action, double packetsPerSecond, int burst, TrafficDirection direction = TrafficDirection.Both, byte protocol = 0, ushort port = 0, IReadOnlyList<IpNetwork>? allow = null)
    {
        Action = action;
        PacketsPerSecond = packetsPerSecond;
        Burst = burst;
        Direction = direction;
        Protocol = protocol;
        Port = port;
        Allow = allow ?? s_noNetworks;
    }

    /// <summary>What the rule does.</summary>
    public MitigationAction Action { get; }

    /// <summary>Sustained rate of <see cref="MitigationAction.RateLimit"/>.</summary>
    public double PacketsPerSecond { get; }

    /// <summary>Packets <see cref="MitigationAction.RateLimit"/> lets through at once (the bucket's size).</summary>
    public int Burst { get; }

    /// <summary>Address rules: the packets of the address matched (from it, to it, or both).</summary>
    public TrafficDirection Direction { get; }

    /// <summary>Address rules: the IP protocol matched; 0 for any.</summary>
    public byte Protocol { get; }

    /// <summary>Address rules: the destination port matched; 0 for any.</summary>
    public ushort Port { get; }

    /// <summary><see cref="MitigationAction.Isolate"/>: the networks the address may still exchange packets with.</summary>
    public IReadOnlyList<IpNetwork> Allow { get; }

    /// <summary>Drops every matching packet.</summary>
    public static MitigationRule Drop => new(MitigationAction.Drop, 0, 0);

    /// <summary>Forwards matching packets up to a rate, measured in packet time.</summary>
    /// <param name="packetsPerSecond">Sustained rate, above 0.</param>
    /// <param name="burst">Bucket size in packets, at least 1.</param>
    /// <returns>The rule.</returns>
    public static MitigationRule RateLimit(double packetsPerSecond, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(packetsPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        return new(MitigationAction.RateLimit, packetsPerSecond, burst);
    }

    /// <summary>Drops the address's packets of one direction, protocol and destination port (an address rule).</summary>
    /// <param name="direction">From the address, to it, or both.</param>
    /// <param name="protocol">IP protocol; 0 for any.</param>
    /// <param name="port">Destination port; 0 for any.</param>
    /// <returns>The rule.</returns>
    public static MitigationRule Block(TrafficDirection direction, byte protocol = 0, ushort port = 0) =>
        new(MitigationAction.Drop, 0, 0, direction, protocol, port);

    /// <summary>Drops every packet from or to the address unless the other end lies in <paramref name="allow"/> (an address rule).</summary>
    /// <param name="allow">What the address may still talk to.</param>
    /// <returns>The rule.</returns>
    public static MitigationRule Isolate(IReadOnlyList<IpNetwork> allow)
    {
        ArgumentNullException.ThrowIfNull(allow);
        return new(MitigationAction.Isolate, 0, 0, allow: [.. allow]);
    }
}
