// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Benchmarks.Synthetic;

/// <summary>Knobs of <see cref="SyntheticTraffic"/>. Defaults describe a hypervisor underlay carrying VXLAN.</summary>
public sealed record TrafficProfile
{
    /// <summary>Seed; the same profile and seed always produce the same bytes.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Tunnel around each tenant frame.</summary>
    public Encapsulation Encapsulation { get; init; } = Encapsulation.Vxlan;

    /// <summary>Flow population (distinct inner 5-tuples per VNI). Popularity follows <see cref="ZipfExponent"/>.</summary>
    public int Flows { get; init; } = 100_000;

    /// <summary>Zipf exponent of flow popularity; 0 is uniform.</summary>
    public double ZipfExponent { get; init; } = 1.1;

    /// <summary>Number of tenant networks (VNIs). Every tenant uses the same inner address ranges.</summary>
    public int Vnis { get; init; } = 64;

    /// <summary>First VNI; tenant t has VNI <c>FirstVni + t</c>.</summary>
    public uint FirstVni { get; init; } = 10_000;

    /// <summary>Number of hypervisors (VTEPs) on the underlay.</summary>
    public int Hypervisors { get; init; } = 256;

    /// <summary>Fraction of flows whose inner frames carry an 802.1Q tag.</summary>
    public double InnerVlanFraction { get; init; } = 0.10;

    /// <summary>Fraction of flows over IPv6 (inner).</summary>
    public double IPv6Fraction { get; init; } = 0.20;

    /// <summary>Fraction of flows over TCP; the rest are UDP.</summary>
    public double TcpFraction { get; init; } = 0.80;

    /// <summary>Fraction of TCP responses and UDP packets that fill the path MTU (inner frames of ~1400-1500 bytes).</summary>
    public double LargeFraction { get; init; } = 0.30;

    /// <summary>Underlay MTU; large packets fill it exactly after encapsulation.</summary>
    public int UnderlayMtu { get; init; } = 1500;

    /// <summary>Mean packet rate, for the timestamps (exponential gaps).</summary>
    public double PacketsPerSecond { get; init; } = 1_000_000;

    /// <summary>Timestamp of the first packet, nanoseconds since the Unix epoch (default 2025-01-01T00:00:00Z).</summary>
    public long StartNs { get; init; } = 1_735_689_600_000_000_000;

    /// <summary>Bytes kept of each frame, as a capture snap length; 0 keeps whole frames.</summary>
    public int SnapLength { get; init; }

    /// <summary>Throws when a knob is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Flows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Vnis, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Vnis, 1 << 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(FirstVni + (uint)Vnis, 1u << 24);
        ArgumentOutOfRangeException.ThrowIfLessThan(Hypervisors, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Hypervisors, 65000);
        ArgumentOutOfRangeException.ThrowIfLessThan(UnderlayMtu, 576);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(UnderlayMtu, 9000);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PacketsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(SnapLength);
        ArgumentOutOfRangeException.ThrowIfNegative(ZipfExponent);
    }
}
