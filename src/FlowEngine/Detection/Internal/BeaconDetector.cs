// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Detection.Internal;

/// <summary>
/// Beaconing, scored as RITA scores it, over the last 32 flows of a source to one destination service and of a source
/// asking one DNS name: the intervals between starts and the sizes are each scored by the symmetry of their
/// quartiles (1 - |Bowley skewness|) and by their spread (1 - median absolute deviation / median), and the beacon
/// score is the mean of the two, the intervals' own score passing the threshold too. Scale-free: a beacon every 2 s and one every hour score alike. Traffic the VM's
/// model expected, or a peer the VM's profile knew long before, is the VM's own periodic traffic and not alerted.
/// </summary>
internal sealed class BeaconDetector(ClassifierOptions options)
{
    private const int History = ClassifierOptions.BeaconHistory;
    private readonly BeaconOptions _o = options.Beacon;
    private readonly long _minIntervalNs = options.Beacon.MinInterval.Ticks * 100, _knownAgeNs = options.Beacon.KnownPeerAge.Ticks * 100;
    private readonly BoundedTable<PairKey, Series> _pairs = new(options.MaxKeys);

    public long Evicted => _pairs.Evicted;

    /// <summary>Adds the flow to its pair's series (and to its DNS name's, when <paramref name="dnsName"/> is not 0).</summary>
    public void Observe(in FlowRecord r, ulong dnsName, bool expected, bool knownPeer, long peerFirstSeenNs, long nowNs, ref Verdict verdict)
    {
        if (r.IsContinuation)
        {
            return;
        }

        var service = new PairKey(r.VirtualNetwork, r.SourceAddress, r.DestinationAddress, r.Protocol, r.DestinationPort, 0);
        Add(service, in r, expected, knownPeer, peerFirstSeenNs, nowNs, "c2.beacon_service", ref verdict);
        if (dnsName != 0)
        {
            Add(new PairKey(r.VirtualNetwork, r.SourceAddress, default, 0, 0, dnsName), in r, expected, knownPeer: false, 0, nowNs, "c2.beacon_dns_name", ref verdict);
        }
    }

    private void Add(PairKey key, in FlowRecord r, bool expected, bool knownPeer, long peerFirstSeenNs, long nowNs, string rule, ref Verdict verdict)
    {
        ref Series s = ref _pairs.GetOrAdd(key, nowNs, out bool added);
        if (added)
        {
            s.FirstNs = r.FirstNs;
            s.KnownPeer = knownPeer && peerFirstSeenNs != 0 && r.FirstNs - peerFirstSeenNs >= _knownAgeNs;
        }

        int slot = s.Count % History;
        s.Starts[slot] = r.FirstNs;
        s.Sizes[slot] = (long)(r.ForwardBytes + r.ReverseBytes);
        s.Expected[slot] = expected;
        s.Count++;
        int n = Math.Min(s.Count, History);
        if (n < _o.MinConnections)
        {
            return;
        }

        Span<double> intervals = stackalloc double[History];
        Span<double> sizes = stackalloc double[History];
        Span<long> starts = stackalloc long[History];
        int expectedCount = 0;
        for (int i = 0; i < n; i++)
        {
            starts[i] = s.Starts[i];
            sizes[i] = s.Sizes[i];
            expectedCount += s.Expected[i] ? 1 : 0;
        }

        starts[..n].Sort();
        for (int i = 1; i < n; i++)
        {
            intervals[i - 1] = starts[i] - starts[i - 1];
        }

        double tsScore = Regularity(intervals[..(n - 1)], out double medianInterval);
        double sizeScore = Regularity(sizes[..n], out _);
        double score = (tsScore + sizeScore) / 2;
        // Beaconing is a matter of timing first: equal sizes at random times are not a beacon.
        if (score < _o.MinScore || tsScore < _o.MinScore || medianInterval < _minIntervalNs)
        {
            return;
        }

        // The VM's own periodic traffic: expected by its model for most flows, or a peer its profile knew long before.
        if (s.KnownPeer || expectedCount * 2 > n)
        {
            s.Suppressed++;
            return;
        }

        double confidence = 0.55 + (0.4 * (score - _o.MinScore) / (1 - _o.MinScore + 1e-9));
        if (verdict.Offer(AttackClass.CommandAndControl, confidence, r.DestinationAddress, true))
        {
            verdict.Add(rule, Math.Round(score, 3), _o.MinScore);
            verdict.Add("c2.interval_score", Math.Round(tsScore, 3), double.NaN);
            verdict.Add("c2.size_score", Math.Round(sizeScore, 3), double.NaN);
            verdict.Add("c2.median_interval_s", Math.Round(medianInterval / 1e9, 3), _o.MinInterval.TotalSeconds);
        }
    }

    // 1 for perfectly regular values; the mean of quartile symmetry and relative spread.
    private static double Regularity(Span<double> values, out double median)
    {
        values.Sort();
        median = Quantile(values, 0.5);
        double q1 = Quantile(values, 0.25), q3 = Quantile(values, 0.75);
        double skew = q3 - q1 > 0 ? (q3 + q1 - (2 * median)) / (q3 - q1) : 0;
        Span<double> deviations = stackalloc double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            deviations[i] = Math.Abs(values[i] - median);
        }

        deviations.Sort();
        double madm = Quantile(deviations, 0.5);
        double spread = median > 0 ? Math.Max(0, 1 - (madm / median)) : (madm == 0 ? 1 : 0);
        return ((1 - Math.Abs(skew)) + spread) / 2;
    }

    private static double Quantile(ReadOnlySpan<double> sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)pos;
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((pos - lo) * (sorted[hi] - sorted[lo]));
    }

    // A destination service (address, protocol, port), or a DNS name (its hash, the service fields zero).
    private readonly record struct PairKey(VirtualNetworkId Network, IpAddress Source, IpAddress Destination, byte Protocol, ushort Port, ulong DnsName);

    private struct Series
    {
        public Longs Starts;
        public Longs Sizes;
        public Flags Expected;
        public int Count;
        public int Suppressed;
        public long FirstNs;
        public bool KnownPeer;
    }

    [InlineArray(History)]
    private struct Longs
    {
        private long _element;
    }

    [InlineArray(History)]
    private struct Flags
    {
        private bool _element;
    }
}
