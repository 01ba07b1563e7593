// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Detection.Internal;

/// <summary>
/// Floods towards one destination: many flows (or packets) in a window, mostly half-open or unanswered, at a few
/// services (many ports is a scan), against the destination's own level; the number of sources tells a spoofed or
/// distributed flood. A victim seen only through its answers (SYN-ACK or RST to many peers, backscatter) counts too.
/// </summary>
internal sealed class DosDetector(ClassifierOptions options)
{
    private readonly DosOptions _o = options.Dos;
    private readonly double _factor = options.BaselineFactor, _alpha = options.BaselineAlpha;
    private readonly long _windowNs = options.Dos.Window.Ticks * 100;
    private readonly BoundedTable<HostKey, Counts> _towards = new(options.MaxKeys);
    private readonly BoundedTable<HostKey, Counts> _answering = new(options.MaxKeys);

    public long Evicted => _towards.Evicted + _answering.Evicted;

    public void Observe(in FlowRecord r, long nowNs, ref Verdict verdict)
    {
        VirtualNetworkId net = r.VirtualNetwork;
        if (FlowFacts.ResponseOnly(r))
        {
            ref Counts b = ref _answering.GetOrAdd(new HostKey(net, r.SourceAddress), nowNs, out _);
            Count(ref b, in r, nowNs, unanswered: true, peer: r.DestinationAddress, port: r.SourcePort);
            Judge(ref b, "dos.backscatter_flows", r.SourceAddress, ref verdict);
            return;
        }

        bool unanswered = FlowFacts.HalfOpen(r) || r.ReversePackets == 0;
        ref Counts c = ref _towards.GetOrAdd(new HostKey(net, r.DestinationAddress), nowNs, out _);
        Count(ref c, in r, nowNs, unanswered, r.SourceAddress, r.DestinationPort);
        Judge(ref c, "dos.flows", r.DestinationAddress, ref verdict);
    }

    private void Count(ref Counts c, in FlowRecord r, long nowNs, bool unanswered, IpAddress peer, ushort port)
    {
        if (c.Window.Roll(nowNs, _windowNs, c.Flows, _alpha))
        {
            c.PacketLevel = c.Window.HasLevel && !c.Window.Alerted ? c.PacketLevel + (_alpha * (c.Packets - c.PacketLevel)) : c.PacketLevel;
            c.Flows = 0;
            c.Unanswered = 0;
            c.Packets = 0;
            c.Answers = 0;
            c.Sources.Clear();
            c.Ports.Clear();
        }

        c.Flows++;
        c.Unanswered += unanswered ? 1 : 0;
        c.Packets += r.ForwardPackets;
        c.Answers += r.ReversePackets;
        c.Sources.Add(FlowFacts.Hash(peer));
        c.Ports.Add(FlowFacts.Hash(port));
    }

    private void Judge(ref Counts c, string rule, IpAddress victim, ref Verdict verdict)
    {
        double ports = c.Ports.Estimate;
        if (ports > _o.MaxServicePorts)
        {
            return;
        }

        double flowThreshold = c.Window.Threshold(_o.MinFlows, _factor);
        double packetThreshold = Math.Max(_o.MinPackets, _factor * c.PacketLevel);
        double unanswered = c.Unanswered / (double)c.Flows;
        bool byFlows = c.Flows >= flowThreshold && unanswered >= _o.MinUnansweredShare;
        bool byPackets = c.Packets >= packetThreshold && c.Answers < 0.05 * c.Packets;
        if (!byFlows && !byPackets)
        {
            return;
        }

        c.Window.Alerted = true;
        double sources = c.Sources.Estimate;
        double confidence = 0.65 + (0.15 * Math.Min(1, c.Flows / (4 * flowThreshold))) + (sources >= 32 ? 0.15 : 0);
        if (verdict.Offer(AttackClass.DenialOfService, confidence, victim, true))
        {
            if (byFlows)
            {
                verdict.Add(rule, c.Flows, flowThreshold);
                verdict.Add("dos.unanswered_share", Math.Round(unanswered, 3), _o.MinUnansweredShare);
            }
            else
            {
                verdict.Add("dos.packets", c.Packets, packetThreshold);
            }

            verdict.Add("dos.sources", Math.Round(sources, 1), double.NaN);
        }
    }

    private readonly record struct HostKey(VirtualNetworkId Network, IpAddress Host);

    private struct Counts
    {
        public WindowLevel Window;
        public DistinctCounter Sources;
        public DistinctCounter Ports;
        public int Flows;
        public int Unanswered;
        public long Packets;
        public long Answers;
        public double PacketLevel;
    }
}
