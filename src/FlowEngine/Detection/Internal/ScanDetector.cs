// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Detection.Internal;

/// <summary>
/// Horizontal scans (one source, one port, many hosts) and vertical scans (one source, one host, many ports), mostly
/// failed, counted per window against each key's own level; and stealth probes (NULL, FIN, XMAS) on their own.
/// </summary>
internal sealed class ScanDetector(ClassifierOptions options)
{
    private readonly ScanOptions _o = options.Scan;
    private readonly double _factor = options.BaselineFactor, _alpha = options.BaselineAlpha;
    private readonly long _windowNs = options.Scan.Window.Ticks * 100;
    private readonly BoundedTable<PortKey, Counts> _byPort = new(options.MaxKeys);
    private readonly BoundedTable<HostKey, Counts> _byHost = new(options.MaxKeys);

    public long Evicted => _byPort.Evicted + _byHost.Evicted;

    public void Observe(in FlowRecord r, long nowNs, ref Verdict verdict)
    {
        if (r.Protocol is not (IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Icmp or IpProtocol.IcmpV6) || r.IsContinuation)
        {
            return;
        }

        bool echo = FlowFacts.EchoRequest(r);
        if (r.Protocol is IpProtocol.Icmp or IpProtocol.IcmpV6 && !echo)
        {
            return;
        }

        bool failed = FlowFacts.Failed(r);
        VirtualNetworkId net = r.VirtualNetwork;

        if (FlowFacts.StealthProbe(r, out string probe) && verdict.Offer(AttackClass.Scan, 0.9, r.DestinationAddress, true))
        {
            verdict.Add(probe, (double)r.ForwardTcpFlags, double.NaN);
        }

        // Horizontal: distinct hosts on one (protocol, port); an ICMP sweep is one "port".
        ref Counts h = ref _byPort.GetOrAdd(new PortKey(net, r.SourceAddress, r.Protocol, echo ? (ushort)0 : r.DestinationPort), nowNs, out _);
        Count(ref h, nowNs, failed, FlowFacts.Hash(r.DestinationAddress));
        // A sweep of a live subnet is answered: for echo requests the distinct hosts and the source's own level decide.
        Judge(ref h, "scan.distinct_hosts", echo ? 0 : _o.MinFailedShare, default, false, ref verdict);

        if (echo)
        {
            return;
        }

        // Vertical: distinct ports on one host.
        ref Counts v = ref _byHost.GetOrAdd(new HostKey(net, r.SourceAddress, r.DestinationAddress, r.Protocol), nowNs, out _);
        Count(ref v, nowNs, failed, FlowFacts.Hash(r.DestinationPort));
        Judge(ref v, "scan.distinct_ports", _o.MinFailedShare, r.DestinationAddress, true, ref verdict);
    }

    /// <summary>Whether the source is scanning this host's ports now (lateral movement defers to it).</summary>
    public bool IsVerticalScan(in FlowRecord r, long nowNs)
    {
        ref Counts v = ref _byHost.GetOrAdd(new HostKey(r.VirtualNetwork, r.SourceAddress, r.DestinationAddress, r.Protocol), nowNs, out _);
        return v.Window.Alerted;
    }

    private void Count(ref Counts c, long nowNs, bool failed, ulong target)
    {
        if (c.Window.Roll(nowNs, _windowNs, c.Distinct.Estimate, _alpha))
        {
            c.Distinct.Clear();
            c.Flows = 0;
            c.Failed = 0;
        }

        c.Flows++;
        c.Failed += failed ? 1 : 0;
        c.Distinct.Add(target);
    }

    private void Judge(ref Counts c, string rule, double minFailed, IpAddress target, bool hasTarget, ref Verdict verdict)
    {
        double distinct = c.Distinct.Estimate, threshold = c.Window.Threshold(_o.MinTargets, _factor);
        double failed = c.Failed / (double)c.Flows;
        if (distinct < threshold || failed < minFailed)
        {
            return;
        }

        c.Window.Alerted = true;
        double confidence = 0.6 + (0.15 * Math.Min(1, (distinct - threshold) / threshold)) + (0.15 * failed);
        if (verdict.Offer(AttackClass.Scan, confidence, target, hasTarget))
        {
            verdict.Add(rule, Math.Round(distinct, 1), threshold);
            verdict.Add("scan.failed_share", Math.Round(failed, 3), minFailed);
        }
    }

    private readonly record struct PortKey(VirtualNetworkId Network, IpAddress Source, byte Protocol, ushort Port);

    private readonly record struct HostKey(VirtualNetworkId Network, IpAddress Source, IpAddress Destination, byte Protocol);

    private struct Counts
    {
        public WindowLevel Window;
        public DistinctCounter Distinct;
        public int Flows;
        public int Failed;
    }
}
