// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Detection.Internal;

/// <summary>
/// Exfiltration: outbound bytes from a VM to one unusual destination (new to its profile with no server name it
/// knows, or surprising to its model), added up over flows and over a long flow's active-timeout records, that pass
/// both a floor and the VM's own largest volume to one destination in the windows before, as an upload (far more out
/// than in).
/// </summary>
internal sealed class ExfiltrationDetector(ClassifierOptions options)
{
    private readonly ExfiltrationOptions _o = options.Exfiltration;
    private readonly double _factor = options.BaselineFactor, _alpha = options.BaselineAlpha;
    private readonly long _windowNs = options.Exfiltration.Window.Ticks * 100;
    private readonly BoundedTable<PairKey, Pair> _pairs = new(options.MaxKeys);
    private readonly BoundedTable<SourceKey, Source> _sources = new(options.MaxKeys);

    public long Evicted => _pairs.Evicted + _sources.Evicted;

    /// <param name="r">The record.</param>
    /// <param name="unusual">Whether the destination is unusual for the VM at this flow.</param>
    /// <param name="nowNs">Packet time.</param>
    /// <param name="verdict">The flow's verdict.</param>
    public void Observe(in FlowRecord r, bool unusual, long nowNs, ref Verdict verdict)
    {
        ref Source src = ref _sources.GetOrAdd(new SourceKey(r.VirtualNetwork, r.SourceAddress), nowNs, out _);
        if (src.Window.Roll(nowNs, _windowNs, src.LargestPair, _alpha))
        {
            src.LargestPair = 0;
        }

        ref Pair p = ref _pairs.GetOrAdd(new PairKey(r.VirtualNetwork, r.SourceAddress, r.DestinationAddress), nowNs, out bool added);
        if (added || nowNs - p.StartNs >= _windowNs)
        {
            p = new Pair { StartNs = nowNs, Unusual = unusual };
        }

        p.Unusual |= unusual && !r.IsContinuation && p.Out == 0;
        p.Out += r.ForwardBytes;
        p.In += r.ReverseBytes;
        p.Flows++;

        // The VM's own normal: the largest volume to one destination it sent without alerting.
        double threshold = src.Window.Threshold(_o.MinBytes, _factor);
        if (!p.Unusual || p.Out < threshold || p.Out < _o.MinUploadRatio * p.In)
        {
            if (!p.Alerted)
            {
                src.LargestPair = Math.Max(src.LargestPair, p.Out);
            }

            return;
        }

        p.Alerted = true;
        src.Window.Alerted = true;
        double confidence = 0.65 + (0.25 * Math.Min(1, (p.Out - threshold) / (4 * threshold)));
        if (verdict.Offer(AttackClass.Exfiltration, confidence, r.DestinationAddress, true))
        {
            verdict.Add("exfiltration.bytes_out", p.Out, threshold);
            verdict.Add("exfiltration.upload_ratio", Math.Round(p.Out / Math.Max(1.0, p.In), 1), _o.MinUploadRatio);
            verdict.Add("exfiltration.flows", p.Flows, double.NaN);
        }
    }

    private readonly record struct PairKey(VirtualNetworkId Network, IpAddress Source, IpAddress Destination);

    private readonly record struct SourceKey(VirtualNetworkId Network, IpAddress Source);

    private struct Pair
    {
        public long StartNs;
        public double Out;
        public double In;
        public int Flows;
        public bool Unusual;
        public bool Alerted;
    }

    private struct Source
    {
        public WindowLevel Window;
        public double LargestPair;
    }
}
