// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context.Profiles;

/// <summary>What a profile describes.</summary>
public enum ProfileKind : byte
{
    /// <summary>One VM (an inventory VM or a learned one).</summary>
    Vm = 1,

    /// <summary>One virtual network (a VNI, a VLAN, a GRE key): every flow inside it.</summary>
    VirtualNetwork = 2,
}

/// <summary>
/// The behaviour of one VM or one virtual network, learned from its own flows, in fixed memory: usual peers, services
/// used and offered, protocols, applications, DNS names and TLS server names (each a <see cref="HeavyHitters"/>), when
/// each peer was first seen (<see cref="PeerHistory"/>), bandwidth in and out (an EWMA and a mean per hour of the week)
/// and resource baselines. Built by a <see cref="ProfileStore"/>; read it between updates (not thread-safe).
/// </summary>
/// <remarks>
/// For a VM, "out" is what it sent and "in" what it received; for a virtual network, what left it for outside peers
/// and what came in from them (traffic between its own VMs counts in flows, not in its bandwidth). A flow's bytes are
/// attributed to the time its record is emitted (its end, or its active timeout), so a long flow adds its volume at
/// once; the table's active timeout bounds that lump.
/// </remarks>
public sealed class BehaviourProfile
{
    /// <summary>Hours of the week in <see cref="MeanBytesPerSecondOut"/>.</summary>
    public const int HoursPerWeek = 168;

    private readonly long[] _protocols = new long[256];
    private readonly long[] _applications = new long[8];
    private readonly double[] _hourOut = new double[HoursPerWeek];
    private readonly double[] _hourIn = new double[HoursPerWeek];
    private readonly long[] _hourSeen = new long[HoursPerWeek];
    private readonly long _bucketNs;
    private readonly double _alpha;
    private long _bucketStart = long.MinValue;
    private double _bucketOut;
    private double _bucketIn;
    private long _lastLocalHour = long.MinValue;
    private bool _ewmaStarted;
    private RunningStatistics _cpu;
    private RunningStatistics _memory;
    private RunningStatistics _diskRead;
    private RunningStatistics _diskWrite;

    internal BehaviourProfile(string name, ProfileKind kind, ProfileOptions options)
    {
        Name = name;
        Kind = kind;
        Peers = new HeavyHitters(options.PeersTracked);
        ServicesUsed = new HeavyHitters(options.ServicesTracked);
        ServicesOffered = new HeavyHitters(options.ServicesTracked);
        DnsNames = new HeavyHitters(options.NamesTracked);
        TlsServerNames = new HeavyHitters(options.NamesTracked);
        PeerFirstSeen = new PeerHistory(options.PeerHistory);
        _bucketNs = (long)(options.BandwidthBucket.TotalSeconds * 1e9);
        _alpha = 1 - Math.Pow(2, -options.BandwidthBucket.TotalSeconds / options.BandwidthHalfLife.TotalSeconds);
    }

    /// <summary>The VM's name, or the virtual network's (<c>vni:5001</c>, <c>vlan:10</c>, <c>gre:7</c>, <c>none</c>).</summary>
    public string Name { get; }

    /// <summary>VM or virtual network.</summary>
    public ProfileKind Kind { get; }

    /// <summary>Flows seen.</summary>
    public long Flows { get; private set; }

    /// <summary>Flows the VM originated (for a network: flows from inside to outside).</summary>
    public long FlowsOut { get; private set; }

    /// <summary>Flows the VM answered (for a network: flows from outside to inside).</summary>
    public long FlowsIn { get; private set; }

    /// <summary>Packet time of the first flow's start.</summary>
    public long FirstNs { get; private set; }

    /// <summary>Packet time of the last flow's end.</summary>
    public long LastNs { get; private set; }

    /// <summary>Bytes sent in all.</summary>
    public double BytesOut { get; private set; }

    /// <summary>Bytes received in all.</summary>
    public double BytesIn { get; private set; }

    /// <summary>Peers by flows: keys are address hashes, labels the 16 address bytes and the IP version.</summary>
    public HeavyHitters Peers { get; }

    /// <summary>Services the VM used as originator: key and label <c>protocol &lt;&lt; 16 | destination port</c>.</summary>
    public HeavyHitters ServicesUsed { get; }

    /// <summary>Services the VM offered as responder: key and label <c>protocol &lt;&lt; 16 | destination port</c>.</summary>
    public HeavyHitters ServicesOffered { get; }

    /// <summary>DNS query names (case-folded), labels the names.</summary>
    public HeavyHitters DnsNames { get; }

    /// <summary>TLS server names (SNI, case-folded), labels the names.</summary>
    public HeavyHitters TlsServerNames { get; }

    /// <summary>When each peer was first and last seen (bounded).</summary>
    public PeerHistory PeerFirstSeen { get; }

    /// <summary>Flows per IP protocol number.</summary>
    public ReadOnlySpan<long> Protocols => _protocols;

    /// <summary>Flows per application (<see cref="AppLayer.AppProtocol"/> value; 0 unknown).</summary>
    public ReadOnlySpan<long> Applications => _applications;

    /// <summary>Bytes per second sent, exponentially weighted over <see cref="ProfileOptions.BandwidthBucket"/> buckets.</summary>
    public double EwmaBytesPerSecondOut { get; private set; }

    /// <summary>Bytes per second received, exponentially weighted.</summary>
    public double EwmaBytesPerSecondIn { get; private set; }

    /// <summary>CPU share in cores (resource samples observed with the VM's flows).</summary>
    public RunningStatistics Cpu => _cpu;

    /// <summary>Memory in use, bytes.</summary>
    public RunningStatistics Memory => _memory;

    /// <summary>Disk reads, bytes per second.</summary>
    public RunningStatistics DiskRead => _diskRead;

    /// <summary>Disk writes, bytes per second.</summary>
    public RunningStatistics DiskWrite => _diskWrite;

    /// <summary>Mean bytes per second sent in local hour-of-week <paramref name="hour"/> (0 = Sunday 00:00), over the hours the profile has lived through.</summary>
    /// <param name="hour">0 to 167.</param>
    /// <returns>Bytes per second; 0 for an hour not lived through yet.</returns>
    public double MeanBytesPerSecondOut(int hour) => _hourSeen[hour] == 0 ? 0 : _hourOut[hour] / (_hourSeen[hour] * 3600.0);

    /// <summary>Mean bytes per second received in local hour-of-week <paramref name="hour"/>.</summary>
    /// <param name="hour">0 to 167.</param>
    /// <returns>Bytes per second.</returns>
    public double MeanBytesPerSecondIn(int hour) => _hourSeen[hour] == 0 ? 0 : _hourIn[hour] / (_hourSeen[hour] * 3600.0);

    /// <summary>How many times the profile has lived through local hour-of-week <paramref name="hour"/>.</summary>
    /// <param name="hour">0 to 167.</param>
    /// <returns>Hours.</returns>
    public long HoursSeen(int hour) => _hourSeen[hour];

    internal void CountFlow(bool outbound, long startNs, long endNs, byte protocol, int application)
    {
        if (Flows == 0 || startNs < FirstNs)
        {
            FirstNs = startNs;
        }

        LastNs = Math.Max(LastNs, endNs);
        Flows++;
        if (outbound)
        {
            FlowsOut++;
        }
        else
        {
            FlowsIn++;
        }

        _protocols[protocol]++;
        _applications[(uint)application < (uint)_applications.Length ? application : 0]++;
    }

    internal void AddBytes(long timeNs, long localHour, double bytesOut, double bytesIn)
    {
        BytesOut += bytesOut;
        BytesIn += bytesIn;

        long bucket = timeNs - (((timeNs % _bucketNs) + _bucketNs) % _bucketNs);
        if (_bucketStart == long.MinValue)
        {
            _bucketStart = bucket;
        }
        else if (bucket > _bucketStart)
        {
            CloseBuckets(bucket);
        }

        // A record emitted late (flows end out of order) joins the open bucket.
        _bucketOut += bytesOut;
        _bucketIn += bytesIn;

        if (_lastLocalHour == long.MinValue)
        {
            _lastLocalHour = localHour;
            _hourSeen[FlowClock.HourOfWeekOfLocalHour(localHour)]++;
        }
        else if (localHour > _lastLocalHour)
        {
            long gap = localHour - _lastLocalHour;
            long weeks = (gap - 1) / HoursPerWeek;
            if (weeks > 0)
            {
                for (int h = 0; h < HoursPerWeek; h++)
                {
                    _hourSeen[h] += weeks;
                }
            }

            for (long h = _lastLocalHour + 1 + (weeks * HoursPerWeek); h <= localHour; h++)
            {
                _hourSeen[FlowClock.HourOfWeekOfLocalHour(h)]++;
            }

            _lastLocalHour = localHour;
        }

        int bin = FlowClock.HourOfWeekOfLocalHour(Math.Min(localHour, _lastLocalHour));
        _hourOut[bin] += bytesOut;
        _hourIn[bin] += bytesIn;
    }

    internal void ObserveResources(double cpu, double memory, double diskRead, double diskWrite)
    {
        _cpu.Add(cpu);
        _memory.Add(memory);
        _diskRead.Add(diskRead);
        _diskWrite.Add(diskWrite);
    }

    private void CloseBuckets(long bucket)
    {
        double seconds = _bucketNs / 1e9;
        double rateOut = _bucketOut / seconds, rateIn = _bucketIn / seconds;
        EwmaBytesPerSecondOut = _ewmaStarted ? EwmaBytesPerSecondOut + (_alpha * (rateOut - EwmaBytesPerSecondOut)) : rateOut;
        EwmaBytesPerSecondIn = _ewmaStarted ? EwmaBytesPerSecondIn + (_alpha * (rateIn - EwmaBytesPerSecondIn)) : rateIn;
        _ewmaStarted = true;

        // Buckets without traffic between the closed one and this one are zero rates.
        long empty = ((bucket - _bucketStart) / _bucketNs) - 1;
        if (empty > 0)
        {
            double decay = Math.Pow(1 - _alpha, empty);
            EwmaBytesPerSecondOut *= decay;
            EwmaBytesPerSecondIn *= decay;
        }

        _bucketStart = bucket;
        _bucketOut = 0;
        _bucketIn = 0;
    }

    internal void Write(BinaryWriter w)
    {
        w.Write(Name);
        w.Write((byte)Kind);
        w.Write(Flows);
        w.Write(FlowsOut);
        w.Write(FlowsIn);
        w.Write(FirstNs);
        w.Write(LastNs);
        w.Write(BytesOut);
        w.Write(BytesIn);
        w.Write(EwmaBytesPerSecondOut);
        w.Write(EwmaBytesPerSecondIn);
        w.Write(_bucketStart);
        w.Write(_bucketOut);
        w.Write(_bucketIn);
        w.Write(_lastLocalHour);
        w.Write(_ewmaStarted);
        WriteArray(w, _protocols);
        WriteArray(w, _applications);
        for (int h = 0; h < HoursPerWeek; h++)
        {
            w.Write(_hourOut[h]);
            w.Write(_hourIn[h]);
            w.Write(_hourSeen[h]);
        }

        _cpu.Write(w);
        _memory.Write(w);
        _diskRead.Write(w);
        _diskWrite.Write(w);

        foreach (HeavyHitters hh in new[] { Peers, ServicesUsed, ServicesOffered, DnsNames, TlsServerNames })
        {
            IReadOnlyList<HeavyHitter> top = hh.Top();
            w.Write(hh.Total);
            w.Write(top.Count);
            foreach (HeavyHitter e in top)
            {
                w.Write(e.Key);
                w.Write(e.Count);
                w.Write(e.Error);
                w.Write(e.Bytes);
                w.Write(e.FirstNs);
                w.Write(e.LastNs);
                w.Write((byte)e.Label.Length);
                w.Write(e.Label);
            }
        }

        var peers = PeerFirstSeen.Entries().ToList();
        w.Write(PeerFirstSeen.Forgotten);
        w.Write(peers.Count);
        foreach ((ulong key, long first, long last) in peers)
        {
            w.Write(key);
            w.Write(first);
            w.Write(last);
        }
    }

    internal static BehaviourProfile Read(BinaryReader r, ProfileOptions options)
    {
        string name = r.ReadString();
        var kind = (ProfileKind)r.ReadByte();
        if (kind is not (ProfileKind.Vm or ProfileKind.VirtualNetwork) || name.Length == 0)
        {
            throw new InvalidDataException($"profile '{name}' has kind {(byte)kind}");
        }

        var p = new BehaviourProfile(name, kind, options)
        {
            Flows = NonNegative(r.ReadInt64()),
            FlowsOut = NonNegative(r.ReadInt64()),
            FlowsIn = NonNegative(r.ReadInt64()),
            FirstNs = r.ReadInt64(),
            LastNs = r.ReadInt64(),
            BytesOut = Finite(r.ReadDouble()),
            BytesIn = Finite(r.ReadDouble()),
            EwmaBytesPerSecondOut = Finite(r.ReadDouble()),
            EwmaBytesPerSecondIn = Finite(r.ReadDouble()),
        };
        p._bucketStart = r.ReadInt64();
        p._bucketOut = Finite(r.ReadDouble());
        p._bucketIn = Finite(r.ReadDouble());
        p._lastLocalHour = r.ReadInt64();
        p._ewmaStarted = r.ReadBoolean();
        ReadArray(r, p._protocols);
        ReadArray(r, p._applications);
        for (int h = 0; h < HoursPerWeek; h++)
        {
            p._hourOut[h] = Finite(r.ReadDouble());
            p._hourIn[h] = Finite(r.ReadDouble());
            p._hourSeen[h] = NonNegative(r.ReadInt64());
        }

        p._cpu = RunningStatistics.Read(r);
        p._memory = RunningStatistics.Read(r);
        p._diskRead = RunningStatistics.Read(r);
        p._diskWrite = RunningStatistics.Read(r);
        foreach (HeavyHitters hh in new[] { p.Peers, p.ServicesUsed, p.ServicesOffered, p.DnsNames, p.TlsServerNames })
        {
            long total = NonNegative(r.ReadInt64());
            int n = Count(r.ReadInt32(), 4096);
            for (int i = 0; i < n; i++)
            {
                ulong key = r.ReadUInt64();
                long count = NonNegative(r.ReadInt64()), error = NonNegative(r.ReadInt64()), bytes = NonNegative(r.ReadInt64());
                long first = r.ReadInt64(), last = r.ReadInt64();
                int labelLength = Count(r.ReadByte(), HeavyHitters.LabelBytes);
                byte[] label = r.ReadBytes(labelLength);
                if (label.Length != labelLength)
                {
                    throw new EndOfStreamException();
                }

                hh.Restore(new HeavyHitter(key, count, error, bytes, first, last, label));
            }

            hh.RestoreTotal(total);
        }

        p.PeerFirstSeen.RestoreForgotten(NonNegative(r.ReadInt64()));
        int peers = Count(r.ReadInt32(), 1 << 22);
        for (int i = 0; i < peers; i++)
        {
            ulong key = r.ReadUInt64();
            long first = r.ReadInt64(), last = r.ReadInt64();
            p.PeerFirstSeen.Restore(key, first, last);
        }

        return p;
    }

    private static void WriteArray(BinaryWriter w, long[] values)
    {
        w.Write(values.Length);
        foreach (long v in values)
        {
            w.Write(v);
        }
    }

    private static void ReadArray(BinaryReader r, long[] into)
    {
        if (r.ReadInt32() != into.Length)
        {
            throw new InvalidDataException($"an array of {into.Length} counters has another length");
        }

        for (int i = 0; i < into.Length; i++)
        {
            into[i] = NonNegative(r.ReadInt64());
        }
    }

    private static long NonNegative(long v) => v >= 0 ? v : throw new InvalidDataException($"negative count {v}");

    private static double Finite(double v) => double.IsFinite(v) ? v : throw new InvalidDataException($"non-finite value {v}");

    private static int Count(int n, int max) => n >= 0 && n <= max ? n : throw new InvalidDataException($"count {n} out of range 0..{max}");
}

/// <summary>Count, mean and variance of a stream of values (Welford's online algorithm).</summary>
public struct RunningStatistics
{
    private double _m2;

    /// <summary>Values added.</summary>
    public long Count { readonly get; private set; }

    /// <summary>Their mean.</summary>
    public double Mean { readonly get; private set; }

    /// <summary>Their sample variance (0 for fewer than two).</summary>
    public readonly double Variance => Count > 1 ? _m2 / (Count - 1) : 0;

    /// <summary>Adds a value (NaN is ignored: a missing sample).</summary>
    /// <param name="value">The value.</param>
    public void Add(double value)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        Count++;
        double delta = value - Mean;
        Mean += delta / Count;
        _m2 += delta * (value - Mean);
    }

    internal readonly void Write(BinaryWriter w)
    {
        w.Write(Count);
        w.Write(Mean);
        w.Write(_m2);
    }

    internal static RunningStatistics Read(BinaryReader r)
    {
        long count = r.ReadInt64();
        double mean = r.ReadDouble(), m2 = r.ReadDouble();
        if (count < 0 || !double.IsFinite(mean) || !double.IsFinite(m2) || m2 < 0)
        {
            throw new InvalidDataException("bad running statistics");
        }

        return new RunningStatistics { Count = count, Mean = mean, _m2 = m2 };
    }
}
