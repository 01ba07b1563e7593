// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Detection;
using FlowEngine.Flows;

namespace FlowEngine.Lab;

/// <summary>
/// Scores alerts against labelled attacks. A flow belongs to an attack when it is in the attacker's virtual network,
/// the attacker is one of its endpoints, and it overlaps the attack window; an alert is correct when its class is
/// the attack's and it names such a flow.
/// </summary>
public static class DetectionEvaluator
{
    /// <summary>Evaluates one capture's alerts.</summary>
    /// <param name="labels">Ground truth.</param>
    /// <param name="flows">Every flow record of the capture.</param>
    /// <param name="alerts">Every alert raised.</param>
    /// <param name="vmCount">VMs in the capture's inventory (for false alerts per VM-hour).</param>
    /// <param name="anyClass">
    /// Score a detector that does not classify (an anomaly detector): an alert is correct when it names an attack's
    /// flow, whatever class it carries, and counts under that attack's class.
    /// </param>
    /// <returns>The report.</returns>
    public static DetectionReport Evaluate(IReadOnlyList<AttackLabel> labels, IReadOnlyList<FlowRecord> flows, IReadOnlyList<Alert> alerts, int vmCount, bool anyClass = false)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(flows);
        ArgumentNullException.ThrowIfNull(alerts);
        int classes = Enum.GetValues<AttackClass>().Length;

        // True class of each flow: the first label it belongs to.
        var truth = new Dictionary<FlowIdentity, (AttackClass Class, int Label)>();
        var attackFlows = new long[classes];
        foreach (FlowRecord f in flows)
        {
            for (int l = 0; l < labels.Count; l++)
            {
                AttackLabel label = labels[l];
                if (f.VirtualNetwork == label.Network && f.IpVersion == label.IpVersion
                    && (f.SourceAddress == label.Attacker || f.DestinationAddress == label.Attacker)
                    && f.FirstNs <= label.EndNs && f.LastNs >= label.StartNs)
                {
                    if (truth.TryAdd(FlowIdentity.Of(f), (label.Class, l)))
                    {
                        attackFlows[(int)label.Class]++;
                    }

                    break;
                }
            }
        }

        // The strongest alert per flow decides the flow's predicted class.
        var strongest = new Dictionary<FlowIdentity, Alert>();
        var alertsOfClass = new long[classes];
        var correctAlerts = new long[classes];
        var firstCorrect = new long?[labels.Count];
        long falseAlerts = 0;
        foreach (Alert given in alerts)
        {
            Alert a = anyClass ? given with { Class = truth.TryGetValue(given.Flow, out var tc) ? tc.Class : AttackClass.None } : given;
            alertsOfClass[(int)a.Class]++;
            if (!strongest.TryGetValue(a.Flow, out Alert best) || a.Score > best.Score)
            {
                strongest[a.Flow] = a;
            }

            if (truth.TryGetValue(a.Flow, out var t))
            {
                if (t.Class == a.Class)
                {
                    correctAlerts[(int)a.Class]++;
                    long delay = Math.Max(0, a.TimestampNs - labels[t.Label].StartNs);
                    if (firstCorrect[t.Label] is not long known || delay < known)
                    {
                        firstCorrect[t.Label] = delay;
                    }
                }
            }
            else
            {
                falseAlerts++;
            }
        }

        var confusion = new long[classes, classes];
        var detectedFlows = new long[classes];
        foreach (FlowRecord f in flows)
        {
            FlowIdentity id = FlowIdentity.Of(f);
            AttackClass actual = truth.TryGetValue(id, out var t) ? t.Class : AttackClass.None;
            AttackClass predicted = strongest.TryGetValue(id, out Alert a) ? a.Class : AttackClass.None;
            confusion[(int)actual, (int)predicted]++;
            if (actual != AttackClass.None && actual == predicted)
            {
                detectedFlows[(int)actual]++;
            }
        }

        var results = new List<DetectionReport.ClassResult>();
        foreach (IGrouping<AttackClass, int> group in Enumerable.Range(0, labels.Count).GroupBy(l => labels[l].Class).OrderBy(g => g.Key))
        {
            long? ttd = group.Select(l => firstCorrect[l]).Where(d => d is not null).Min();
            results.Add(new DetectionReport.ClassResult(
                group.Key,
                group.Count(),
                ttd is not null,
                ttd is long ns ? TimeSpan.FromTicks(ns / 100) : null,
                attackFlows[(int)group.Key],
                detectedFlows[(int)group.Key],
                alertsOfClass[(int)group.Key],
                correctAlerts[(int)group.Key]));
        }

        return new DetectionReport(results, confusion, falseAlerts, NormalHours(labels, flows) * vmCount);
    }

    // Hours of the capture (first to last packet) outside the union of attack windows.
    private static double NormalHours(IReadOnlyList<AttackLabel> labels, IReadOnlyList<FlowRecord> flows)
    {
        if (flows.Count == 0)
        {
            return 0;
        }

        long start = flows.Min(f => f.FirstNs), end = flows.Max(f => f.LastNs);
        long attack = 0, coveredTo = start;
        foreach (AttackLabel l in labels.OrderBy(l => l.StartNs))
        {
            long s = Math.Max(l.StartNs, coveredTo), e = Math.Min(l.EndNs, end);
            if (e > s)
            {
                attack += e - s;
                coveredTo = e;
            }
        }

        return (end - start - attack) / 3.6e12;
    }
}
