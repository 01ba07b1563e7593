// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Detection;

/// <summary>
/// Thresholds of <see cref="FlowClassifier"/>, per class (docs/detection.md explains each). Counting thresholds are
/// floors: each key also learns its own level from the windows before (an exponentially weighted mean of its
/// windows that raised nothing) and must pass <see cref="BaselineFactor"/> times that level, so a VM whose normal is
/// busy is judged against its own normal.
/// </summary>
public sealed record ClassifierOptions
{
    /// <summary>How far a key's count must pass its own learned level (default 4).</summary>
    public double BaselineFactor { get; init; } = 4;

    /// <summary>Weight of the newest window in a key's learned level (default 0.2).</summary>
    public double BaselineAlpha { get; init; } = 0.2;

    /// <summary>Keys (sources, destinations, pairs) each detector keeps; the least recently seen make room (default 65,536).</summary>
    public int MaxKeys { get; init; } = 65_536;

    /// <summary>Scan thresholds.</summary>
    public ScanOptions Scan { get; init; } = new();

    /// <summary>Denial-of-service thresholds.</summary>
    public DosOptions Dos { get; init; } = new();

    /// <summary>DNS tunnel thresholds.</summary>
    public DnsTunnelOptions DnsTunnel { get; init; } = new();

    /// <summary>Beaconing (C2) thresholds.</summary>
    public BeaconOptions Beacon { get; init; } = new();

    /// <summary>Exfiltration thresholds.</summary>
    public ExfiltrationOptions Exfiltration { get; init; } = new();

    /// <summary>Lateral movement thresholds.</summary>
    public LateralOptions Lateral { get; init; } = new();

    /// <summary>Resource abuse (coin miner) thresholds.</summary>
    public ResourceAbuseOptions ResourceAbuse { get; init; } = new();

    /// <summary>Checks every value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        Positive(BaselineFactor, nameof(BaselineFactor));
        Fraction(BaselineAlpha, nameof(BaselineAlpha));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxKeys, 16, nameof(MaxKeys));
        Positive(Scan.Window.TotalSeconds, "Scan.Window");
        Positive(Scan.MinTargets, "Scan.MinTargets");
        Fraction(Scan.MinFailedShare, "Scan.MinFailedShare");
        Positive(Dos.Window.TotalSeconds, "Dos.Window");
        Positive(Dos.MinFlows, "Dos.MinFlows");
        Positive(Dos.MinPackets, "Dos.MinPackets");
        Fraction(Dos.MinUnansweredShare, "Dos.MinUnansweredShare");
        Positive(Dos.MaxServicePorts, "Dos.MaxServicePorts");
        Positive(DnsTunnel.Window.TotalSeconds, "DnsTunnel.Window");
        Positive(DnsTunnel.MinUniqueNames, "DnsTunnel.MinUniqueNames");
        Fraction(DnsTunnel.MinShare, "DnsTunnel.MinShare");
        Positive(DnsTunnel.LongSubdomain, "DnsTunnel.LongSubdomain");
        Positive(DnsTunnel.MeanSubdomain, "DnsTunnel.MeanSubdomain");
        Positive(Lateral.MinSession.TotalSeconds, "Lateral.MinSession");
        ArgumentOutOfRangeException.ThrowIfLessThan(Beacon.MinConnections, 4, "Beacon.MinConnections");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Beacon.MinConnections, BeaconHistory, "Beacon.MinConnections");
        Fraction(Beacon.MinScore, "Beacon.MinScore");
        Positive(Beacon.MinInterval.TotalSeconds, "Beacon.MinInterval");
        Positive(Beacon.KnownPeerAge.TotalSeconds, "Beacon.KnownPeerAge");
        Positive(Exfiltration.Window.TotalSeconds, "Exfiltration.Window");
        Positive(Exfiltration.MinBytes, "Exfiltration.MinBytes");
        Positive(Exfiltration.MinUploadRatio, "Exfiltration.MinUploadRatio");
        Positive(Lateral.Window.TotalSeconds, "Lateral.Window");
        Positive(Lateral.MinTargets, "Lateral.MinTargets");
        Positive(Lateral.MinAttempts, "Lateral.MinAttempts");
        if (Lateral.AdminPorts is null || Lateral.AdminPorts.Count == 0)
        {
            throw new ArgumentOutOfRangeException("Lateral.AdminPorts", "must name at least one port");
        }

        Positive(ResourceAbuse.MinCpuCores, "ResourceAbuse.MinCpuCores");
        Positive(ResourceAbuse.MinDuration.TotalSeconds, "ResourceAbuse.MinDuration");
        Positive(ResourceAbuse.StandardDeviations, "ResourceAbuse.StandardDeviations");
    }

    /// <summary>Flow start times a beaconing pair keeps.</summary>
    internal const int BeaconHistory = 32;

    private static void Positive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value, "must be a positive number");
        }
    }

    private static void Fraction(double value, string name)
    {
        if (!(value is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(name, value, "must be in (0, 1]");
        }
    }
}

/// <summary>Scan thresholds: horizontal (one port, many hosts) and vertical (one host, many ports).</summary>
public sealed record ScanOptions
{
    /// <summary>Counting window (default 60 s).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Distinct hosts on one port, or ports on one host, before a scan is called (default 16).</summary>
    public double MinTargets { get; init; } = 16;

    /// <summary>Share of those flows that failed (no payload either way; no answer for UDP); not asked of ICMP echo sweeps (default 0.5).</summary>
    public double MinFailedShare { get; init; } = 0.5;

}

/// <summary>Denial-of-service thresholds, per destination.</summary>
public sealed record DosOptions
{
    /// <summary>Counting window (default 10 s).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Flows towards one destination in a window (default 100).</summary>
    public double MinFlows { get; init; } = 100;

    /// <summary>Packets towards one destination in a window for a flood in few flows (default 20,000).</summary>
    public double MinPackets { get; init; } = 20_000;

    /// <summary>Share of those flows half-open or unanswered (default 0.5).</summary>
    public double MinUnansweredShare { get; init; } = 0.5;

    /// <summary>A flood aims at a few services: at most this many distinct ports (more is a scan) (default 8).</summary>
    public double MaxServicePorts { get; init; } = 8;
}

/// <summary>DNS tunnel thresholds, per client and registered domain.</summary>
public sealed record DnsTunnelOptions
{
    /// <summary>Counting window (default 300 s).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Unique names under one domain (default 20).</summary>
    public double MinUniqueNames { get; init; } = 20;

    /// <summary>Share of names encoded, or of TXT/NULL/MX/CNAME queries (default 0.5).</summary>
    public double MinShare { get; init; } = 0.5;

    /// <summary>An encoded subdomain this long is called a tunnel (or exfiltration in a name) on its own (default 48).</summary>
    public int LongSubdomain { get; init; } = 48;

    /// <summary>Subdomain characters, on average over a window (or of the flow's own name), that carry data (default 24).</summary>
    public int MeanSubdomain { get; init; } = 24;
}

/// <summary>Beaconing thresholds, per source and destination (or repeated DNS name), scored as RITA scores it.</summary>
public sealed record BeaconOptions
{
    /// <summary>Connections before a pair is scored (default 10, at most 32).</summary>
    public int MinConnections { get; init; } = 10;

    /// <summary>Score (0 to 1: regularity of intervals and of sizes) to call beaconing (default 0.8).</summary>
    public double MinScore { get; init; } = 0.8;

    /// <summary>Median interval below which repetition is a burst, not a beacon (default 1 s).</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A peer in the VM's profile for this long before the first beacon is its own periodic traffic (default 1 h).</summary>
    public TimeSpan KnownPeerAge { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>Exfiltration thresholds, per VM and destination.</summary>
public sealed record ExfiltrationOptions
{
    /// <summary>Window over which bytes to one destination add up (default 1 h).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Least outbound bytes to an unusual destination (default 512 KiB); the VM's own largest also scales it.</summary>
    public double MinBytes { get; init; } = 512 * 1024;

    /// <summary>Outbound bytes at least this many times the inbound ones (an upload) (default 2).</summary>
    public double MinUploadRatio { get; init; } = 2;
}

/// <summary>Lateral movement thresholds, per source VM.</summary>
public sealed record LateralOptions
{
    /// <summary>Counting window (default 600 s).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>Distinct new internal hosts tried on administrative ports (default 3).</summary>
    public double MinTargets { get; init; } = 3;

    /// <summary>Short attempts on one host's administrative port that make a guessing run (default 8).</summary>
    public double MinAttempts { get; init; } = 8;

    /// <summary>A flow at least this long with an answer is a session, not an attempt (default 30 s).</summary>
    public TimeSpan MinSession { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Administrative ports: SSH, Telnet, RPC, NetBIOS, SMB, VMware, RDP, VNC, WinRM.</summary>
    public IReadOnlySet<ushort> AdminPorts { get; init; } = new HashSet<ushort> { 22, 23, 135, 139, 445, 902, 3389, 5900, 5985, 5986 };
}

/// <summary>Resource abuse thresholds (a coin miner: a busy CPU and a long connection out on an unusual port).</summary>
public sealed record ResourceAbuseOptions
{
    /// <summary>CPU share of the VM, cores, at the flow's start and end (default 0.8).</summary>
    public double MinCpuCores { get; init; } = 0.8;

    /// <summary>Standard deviations above the VM's own CPU baseline, when it has one (default 4).</summary>
    public double StandardDeviations { get; init; } = 4;

    /// <summary>Least duration of the connection (default 60 s).</summary>
    public TimeSpan MinDuration { get; init; } = TimeSpan.FromSeconds(60);
}
