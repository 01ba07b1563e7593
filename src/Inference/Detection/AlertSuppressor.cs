// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;

namespace FlowEngine.Inference.Detection;

/// <summary>
/// One alert per cause: deviating flows of one VM with the same type and the same cause are merged while they keep
/// coming within <see cref="Window"/> of packet time, into one <see cref="GroupedAlert"/> with a count, the time span
/// and the strongest flow, so that a flood or a scan is one alert, not thousands.
/// </summary>
/// <remarks>
/// The cause follows the head that was most surprised: an unexpected peer or relation is grouped by the responder
/// port (one port swept over many hosts is one cause); an unexpected port by the peer (one host probed on many ports);
/// an unexpected application or volume by the peer; an unexpected gap by the VM alone. Packet time drives it, so a
/// replay groups exactly as the live run did.
/// </remarks>
/// <param name="window">How long a cause stays open after its last flow (packet time).</param>
public sealed class AlertSuppressor(TimeSpan window)
{
    private readonly Dictionary<(string Vm, string Type, string Cause, string Target), Group> _open = [];
    private long _order;

    /// <summary>How long a cause stays open after its last flow.</summary>
    public TimeSpan Window { get; } = window > TimeSpan.Zero ? window : throw new ArgumentOutOfRangeException(nameof(window), window, "must be positive");

    /// <summary>Alerts merged into an open group (not emitted on their own).</summary>
    public long Suppressed { get; private set; }

    /// <summary>Adds a deviating flow; returns the groups its packet time closed (in the order they opened).</summary>
    /// <param name="alert">The flow (its <see cref="FlowScore.Alert"/> should be set).</param>
    /// <param name="type">Its class (<c>anomaly</c> until classified).</param>
    /// <returns>Groups closed by the advance of packet time.</returns>
    public IReadOnlyList<GroupedAlert> Add(FlowScore alert, string type = "anomaly")
    {
        ArgumentNullException.ThrowIfNull(alert);
        long now = alert.Record.FirstNs;
        List<GroupedAlert> closed = Close(now);
        (string cause, string target) = CauseOf(alert);
        var key = (alert.Vm, type, cause, target);
        if (_open.TryGetValue(key, out Group? g))
        {
            g.Count++;
            g.LastNs = Math.Max(g.LastNs, alert.Record.LastNs);
            g.LastSeenNs = Math.Max(g.LastSeenNs, now);
            if (alert.Score > g.Strongest.Score)
            {
                g.Strongest = alert;
            }

            Suppressed++;
        }
        else
        {
            _open[key] = new Group(_order++, alert) { Count = 1, FirstNs = now, LastNs = alert.Record.LastNs, LastSeenNs = now };
        }

        return closed;
    }

    /// <summary>Closes every open group (end of input).</summary>
    /// <returns>The groups, in the order they opened.</returns>
    public IReadOnlyList<GroupedAlert> Flush() => Close(long.MaxValue);

    /// <summary>The cause and target a flow's alert is grouped by (see the remarks).</summary>
    /// <param name="alert">The flow.</param>
    /// <returns>The most surprised head and the target.</returns>
    public static (string Cause, string Target) CauseOf(FlowScore alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        string head = alert.Evidence.Length == 0 ? "score" : alert.Evidence.MaxBy(e => e.Nll).Head;
        var r = alert.Record;
        string peer = (alert.Perspective == Features.FlowPerspective.Originator ? r.DestinationAddress : r.SourceAddress).ToString(r.IpVersion);
        string port = string.Create(CultureInfo.InvariantCulture, $"{r.Protocol}/{r.DestinationPort}");
        return head switch
        {
            "relation" or "peer" => (head, port),
            "log_gap" => (head, string.Empty),
            _ => (head, peer),
        };
    }

    private List<GroupedAlert> Close(long now)
    {
        var closed = new List<GroupedAlert>();
        long window = Window.Ticks * 100;
        foreach (KeyValuePair<(string Vm, string Type, string Cause, string Target), Group> e in _open.OrderBy(e => e.Value.Order).ToList())
        {
            if (now == long.MaxValue || now - e.Value.LastSeenNs > window)
            {
                Group g = e.Value;
                closed.Add(new GroupedAlert(e.Key.Vm, e.Key.Type, e.Key.Cause, e.Key.Target, g.FirstNs, g.LastNs, g.Count, g.Strongest));
                _open.Remove(e.Key);
            }
        }

        return closed;
    }

    private sealed class Group(long order, FlowScore strongest)
    {
        public long Order { get; } = order;

        public FlowScore Strongest { get; set; } = strongest;

        public int Count { get; set; }

        public long FirstNs { get; set; }

        public long LastNs { get; set; }

        public long LastSeenNs { get; set; }
    }
}

/// <summary>One alert for one cause (see <see cref="AlertSuppressor"/>).</summary>
/// <param name="Vm">The VM.</param>
/// <param name="Type">The class.</param>
/// <param name="Cause">The head that was most surprised (or the classifier's rule).</param>
/// <param name="Target">What the flows shared: a port for new peers, a peer for new ports, volumes and applications.</param>
/// <param name="FirstNs">Start of the first flow.</param>
/// <param name="LastNs">End of the last flow.</param>
/// <param name="Count">Deviating flows merged.</param>
/// <param name="Strongest">The flow with the highest score.</param>
public sealed record GroupedAlert(string Vm, string Type, string Cause, string Target, long FirstNs, long LastNs, int Count, FlowScore Strongest)
{
    /// <summary>One deviating flow as an alert of its own (no grouping).</summary>
    /// <param name="alert">The flow.</param>
    /// <param name="type">Its class.</param>
    /// <returns>The alert, with a count of 1.</returns>
    public static GroupedAlert Of(FlowScore alert, string type = "anomaly")
    {
        (string cause, string target) = AlertSuppressor.CauseOf(alert);
        return new GroupedAlert(alert.Vm, type, cause, target, alert.Record.FirstNs, alert.Record.LastNs, 1, alert);
    }
}
