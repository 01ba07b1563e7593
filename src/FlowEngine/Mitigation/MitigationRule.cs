// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>A mitigation rule: drop, or rate-limit to <see cref="PacketsPerSecond"/> with bursts of <see cref="Burst"/> packets.</summary>
public readonly record struct MitigationRule
{
    private MitigationRule(MitigationAction action, double packetsPerSecond, int burst)
    {
        Action = action;
        PacketsPerSecond = packetsPerSecond;
        Burst = burst;
    }

    /// <summary>What the rule does.</summary>
    public MitigationAction Action { get; }

    /// <summary>Sustained rate of <see cref="MitigationAction.RateLimit"/>.</summary>
    public double PacketsPerSecond { get; }

    /// <summary>Packets <see cref="MitigationAction.RateLimit"/> lets through at once (the bucket's size).</summary>
    public int Burst { get; }

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
}
