// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Detection;

/// <summary>
/// One alert per cause: per-flow alerts with the same class, VM (or source address), target and first rule are
/// merged while they keep coming within <see cref="Window"/> of packet time, into one alert with a count, the time
/// span and the evidence of its most confident flow. A flood is one alert, not thousands.
/// </summary>
/// <param name="window">How long a cause stays open after its last flow.</param>
/// <param name="output">Where closed alerts go, in the order their causes opened.</param>
public sealed class AlertGrouper(TimeSpan window, IAlertSink output) : IAlertSink
{
    private readonly Dictionary<Key, Group> _open = [];
    private readonly long _windowNs = window > TimeSpan.Zero ? window.Ticks * 100 : throw new ArgumentOutOfRangeException(nameof(window), window, "must be positive");
    private readonly IAlertSink _output = output ?? throw new ArgumentNullException(nameof(output));
    private readonly List<KeyValuePair<Key, Group>> _closing = [];
    private long _order;
    private long _lastClosedNs;

    /// <summary>How long a cause stays open after its last flow.</summary>
    public TimeSpan Window => TimeSpan.FromTicks(_windowNs / 100);

    /// <summary>Per-flow alerts merged into an open cause.</summary>
    public long Suppressed { get; private set; }

    /// <summary>Alerts emitted.</summary>
    public long Emitted { get; private set; }

    /// <summary>Adds a per-flow alert.</summary>
    /// <param name="alert">The alert.</param>
    public void OnAlert(in Alert alert)
    {
        long now = alert.LastNs > 0 ? Math.Max(alert.TimestampNs, alert.LastNs) : alert.TimestampNs;
        if (now - _lastClosedNs >= _windowNs / 8)
        {
            Close(now);
        }

        var key = new Key(
            alert.Class,
            alert.Vm,
            alert.Vm is null ? (alert.Class == AttackClass.DenialOfService ? alert.Flow.Destination : alert.Flow.Source) : default,
            alert.Target ?? default,
            alert.TargetName,
            alert.Evidence is { Count: > 0 } e ? e[0].Rule : null);
        if (_open.TryGetValue(key, out Group? g))
        {
            g.Count += Math.Max(1, alert.Count);
            g.LastNs = Math.Max(g.LastNs, alert.LastNs);
            g.LastSeenNs = Math.Max(g.LastSeenNs, now);
            if (alert.Confidence > g.Strongest.Confidence)
            {
                g.Strongest = alert;
            }

            Suppressed++;
        }
        else
        {
            _open[key] = new Group(_order++, alert) { Count = Math.Max(1, alert.Count), FirstNs = alert.TimestampNs, LastNs = Math.Max(alert.TimestampNs, alert.LastNs), LastSeenNs = now };
        }
    }

    /// <summary>Closes every open cause (end of input).</summary>
    public void Flush() => Close(long.MaxValue);

    private void Close(long now)
    {
        _lastClosedNs = now;
        _closing.Clear();
        foreach (KeyValuePair<Key, Group> e in _open)
        {
            if (now == long.MaxValue || now - e.Value.LastSeenNs > _windowNs)
            {
                _closing.Add(e);
            }
        }

        _closing.Sort((a, b) => a.Value.Order.CompareTo(b.Value.Order));
        foreach (KeyValuePair<Key, Group> e in _closing)
        {
            Group g = e.Value;
            _open.Remove(e.Key);
            Alert merged = g.Strongest with { TimestampNs = g.FirstNs, LastNs = g.LastNs, Count = g.Count };
            Emitted++;
            _output.OnAlert(in merged);
        }
    }

    private readonly record struct Key(AttackClass Class, string? Vm, IpAddress Subject, IpAddress Target, string? TargetName, string? Rule);

    private sealed class Group(long order, Alert strongest)
    {
        public long Order { get; } = order;

        public Alert Strongest { get; set; } = strongest;

        public int Count { get; set; }

        public long FirstNs { get; set; }

        public long LastNs { get; set; }

        public long LastSeenNs { get; set; }
    }
}
