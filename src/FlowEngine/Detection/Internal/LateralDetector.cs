// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Detection.Internal;

/// <summary>
/// Lateral movement: a VM trying administrative services (SSH, SMB, RDP, WinRM, ...) on internal hosts new to it,
/// on several of them in a window (fan-out), or many short attempts on one (guessing), and most of all a guessing run
/// followed by a session that lasts (failed, then succeeded).
/// </summary>
internal sealed class LateralDetector(ClassifierOptions options)
{
    private readonly LateralOptions _o = options.Lateral;
    private readonly double _factor = options.BaselineFactor, _alpha = options.BaselineAlpha;
    private readonly long _windowNs = options.Lateral.Window.Ticks * 100;
    private readonly long _sessionNs = options.Lateral.MinSession.Ticks * 100;
    private readonly BoundedTable<SourceKey, FanOut> _sources = new(options.MaxKeys);
    private readonly BoundedTable<TargetKey, Attempts> _targets = new(options.MaxKeys);

    public long Evicted => _sources.Evicted + _targets.Evicted;

    /// <param name="r">The record (TCP to an administrative port between internal hosts; the caller checks).</param>
    /// <param name="expected">Whether the VM's model expected this destination and port (then a first pair is not new).</param>
    /// <param name="nowNs">Packet time.</param>
    /// <param name="verdict">The flow's verdict.</param>
    public void Observe(in FlowRecord r, bool expected, long nowNs, ref Verdict verdict)
    {
        if (r.Protocol != IpProtocol.Tcp || !_o.AdminPorts.Contains(r.DestinationPort) || r.IsContinuation)
        {
            return;
        }

        // A pair (source, host, administrative port) not seen before, and not expected by the VM's model, is a new target.
        ref Attempts a = ref _targets.GetOrAdd(new TargetKey(r.VirtualNetwork, r.SourceAddress, r.DestinationAddress, r.DestinationPort), nowNs, out bool added);
        if (added || nowNs - a.StartNs >= _windowNs)
        {
            a = new Attempts { StartNs = nowNs };
        }

        ref FanOut f = ref _sources.GetOrAdd(new SourceKey(r.VirtualNetwork, r.SourceAddress), nowNs, out _);
        if (f.Window.Roll(nowNs, _windowNs, f.NewTargets.Estimate, _alpha))
        {
            f.NewTargets.Clear();
        }

        if (added && !expected)
        {
            f.NewTargets.Add(FlowFacts.Hash(r.DestinationAddress));
        }

        double targets = f.NewTargets.Estimate, threshold = f.Window.Threshold(_o.MinTargets, _factor);
        if (targets >= threshold)
        {
            f.Window.Alerted = true;
            if (verdict.Offer(AttackClass.LateralMovement, 0.6 + (0.1 * Math.Min(1, targets / (3 * threshold))) + (FlowFacts.Failed(r) ? 0.05 : 0), default, false))
            {
                verdict.Add("lateral.new_admin_targets", Math.Round(targets, 1), threshold);
                verdict.Add("lateral.port", r.DestinationPort, double.NaN);
            }
        }

        // Guessing: short attempts on one host's administrative port; a long session after them is a success.
        bool session = r.LastNs - r.FirstNs >= _sessionNs && r.ReversePayloadBytes > 0;
        if (!session)
        {
            a.Short++;
        }

        if (a.Short < _o.MinAttempts)
        {
            return;
        }

        bool succeeded = session;
        if (verdict.Offer(AttackClass.LateralMovement, succeeded ? 0.85 : 0.65, r.DestinationAddress, true))
        {
            verdict.Add(succeeded ? "lateral.failed_then_succeeded" : "lateral.attempts", a.Short, _o.MinAttempts);
            verdict.Add("lateral.port", r.DestinationPort, double.NaN);
        }
    }

    private readonly record struct SourceKey(VirtualNetworkId Network, IpAddress Source);

    private readonly record struct TargetKey(VirtualNetworkId Network, IpAddress Source, IpAddress Destination, ushort Port);

    private struct FanOut
    {
        public WindowLevel Window;
        public DistinctCounter NewTargets;
    }

    private struct Attempts
    {
        public long StartNs;
        public int Short;
    }
}
