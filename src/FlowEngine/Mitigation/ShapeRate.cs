// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;

namespace FlowEngine.Mitigation;

/// <summary>The unit of a <see cref="ShapeRate"/>.</summary>
public enum RateUnit : byte
{
    /// <summary>Bytes per second (wire length).</summary>
    BytesPerSecond = 1,

    /// <summary>Packets per second.</summary>
    PacketsPerSecond = 2,
}

/// <summary>A shaping rate: so many bytes or packets per second, with a burst in the same unit.</summary>
public readonly record struct ShapeRate
{
    private ShapeRate(RateUnit unit, long perSecond, long burst)
    {
        Unit = unit;
        PerSecond = perSecond;
        Burst = burst;
    }

    /// <summary>Bytes or packets.</summary>
    public RateUnit Unit { get; }

    /// <summary>Sustained rate, in <see cref="Unit"/> per second.</summary>
    public long PerSecond { get; }

    /// <summary>What may pass at once (the token bucket's size), in the unit.</summary>
    public long Burst { get; }

    /// <summary>A byte rate; the burst defaults to a tenth of a second of it, at least two full-size frames.</summary>
    /// <param name="bytesPerSecond">Above 0.</param>
    /// <param name="burstBytes">Bucket size; 0 for the default.</param>
    /// <returns>The rate.</returns>
    public static ShapeRate Bytes(long bytesPerSecond, long burstBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(burstBytes);
        return new(RateUnit.BytesPerSecond, bytesPerSecond, burstBytes > 0 ? burstBytes : Math.Max(bytesPerSecond / 10, 2 * 1514));
    }

    /// <summary>A packet rate; the burst defaults to a tenth of a second of it, at least one packet.</summary>
    /// <param name="packetsPerSecond">Above 0.</param>
    /// <param name="burstPackets">Bucket size; 0 for the default.</param>
    /// <returns>The rate.</returns>
    public static ShapeRate Packets(long packetsPerSecond, long burstPackets = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(packetsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(burstPackets);
        return new(RateUnit.PacketsPerSecond, packetsPerSecond, burstPackets > 0 ? burstPackets : Math.Max(packetsPerSecond / 10, 1));
    }

    /// <summary>"125000 B/s" or "1000 pkt/s".</summary>
    /// <returns>The text.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{PerSecond} {(Unit == RateUnit.BytesPerSecond ? "B/s" : "pkt/s")}");
}
