// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Detection;

namespace FlowEngine.Mitigation;

/// <summary>Options of a <see cref="MitigationController"/>.</summary>
public sealed class MitigationControllerOptions
{
    /// <summary>Decide and audit, but never call the handler (default: true, so enforcing is a choice).</summary>
    public bool DryRun { get; set; } = true;

    /// <summary>The wall clock for TTLs and the budget (tests inject their own).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>
    /// Run TTLs and the budget on packet time instead of the wall clock: time is the latest of the alerts'
    /// timestamps and <see cref="MitigationController.AdvanceTo"/> (replays of captures).
    /// </summary>
    public bool PacketTime { get; set; }

    /// <summary>How often a wall-clock controller reverts expired actions by itself; zero for never (call <see cref="MitigationController.ExpireDue"/>).</summary>
    public TimeSpan ExpiryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Dispose the handler with the controller (after reverting everything).</summary>
    public bool OwnsHandler { get; set; } = true;
}

/// <summary>
/// Turns alerts into mitigation actions safely: the <see cref="MitigationPolicy"/> chooses the actions, then every
/// action passes the allowlist (nothing of it is blocked, shaped or isolated), de-duplication (an action in force is
/// not applied again), and the budget (at most so many actions per minute) before the handler applies it, or, in
/// dry-run, nothing is applied. Every action is reverted when its TTL runs out and on dispose. Every decision is a
/// line in the audit log. Thread-safe: alerts may come from any thread; the handler is called by one at a time.
/// </summary>
public sealed class MitigationController : IAlertSink, IDisposable
{
    private const long MinuteNs = 60_000_000_000;

    private readonly MitigationPolicy _policy;
    private readonly IMitigationHandler _handler;
    private readonly MitigationAuditLog _audit;
    private readonly MitigationControllerOptions _options;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _inForce = new(StringComparer.Ordinal);
    private readonly Queue<long> _recent = new();
    private readonly ITimer? _timer;
    private long _packetNowNs;
    private bool _disposed;

    /// <summary>Creates a controller.</summary>
    /// <param name="policy">Chooses the actions and holds the allowlist, budget and default TTL.</param>
    /// <param name="handler">Enforces them (not called in dry-run).</param>
    /// <param name="audit">Where every decision is written (the controller does not dispose it).</param>
    /// <param name="options">Dry-run, clock, expiry.</param>
    public MitigationController(MitigationPolicy policy, IMitigationHandler handler, MitigationAuditLog audit, MitigationControllerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(audit);
        _policy = policy;
        _handler = handler;
        _audit = audit;
        _options = options ?? new MitigationControllerOptions();
        DryRun = _options.DryRun || handler is DryRunMitigationHandler;
        if (!_options.PacketTime && _options.ExpiryInterval > TimeSpan.Zero)
        {
            _timer = _options.Clock.CreateTimer(_ => ExpireDue(), null, _options.ExpiryInterval, _options.ExpiryInterval);
        }

        // A process that ends (normally, or on SIGTERM) without disposing still reverts what it applied.
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>True when nothing is applied (dry-run option, or the dry-run handler).</summary>
    public bool DryRun { get; }

    /// <summary>Actions the policy chose.</summary>
    public long Decided { get; private set; }

    /// <summary>Actions applied (or, in dry-run, simulated).</summary>
    public long Applied { get; private set; }

    /// <summary>Actions refused by a safety rule.</summary>
    public long Refused { get; private set; }

    /// <summary>Applies and reverts that the handler failed.</summary>
    public long Failed { get; private set; }

    /// <summary>Actions reverted (TTL, exit or request).</summary>
    public long Reverted { get; private set; }

    /// <summary>The controller's time now, Unix ns (wall clock, or packet time).</summary>
    public long NowNs
    {
        get
        {
            lock (_gate)
            {
                return Now();
            }
        }
    }

    /// <summary>The actions in force now.</summary>
    public IReadOnlyList<MitigationRequest> InForce
    {
        get
        {
            lock (_gate)
            {
                return [.. _inForce.Values.Select(e => e.Action)];
            }
        }
    }

    /// <summary>Decides the actions for one alert and applies those that pass the safety rules.</summary>
    /// <param name="alert">The alert.</param>
    public void OnAlert(in Alert alert)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if (_options.PacketTime)
            {
                _packetNowNs = Math.Max(_packetNowNs, Math.Max(alert.TimestampNs, alert.LastNs));
            }

            ExpireDueLocked();
            foreach (MitigationRequest action in _policy.Decide(in alert))
            {
                SubmitLocked(action);
            }
        }
    }

    /// <summary>Submits one action directly (an operator's or a test's), through the same safety rules.</summary>
    /// <param name="action">The action.</param>
    /// <returns>What happened: applied, simulated, refused or failed.</returns>
    public AuditEvent Submit(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ExpireDueLocked();
            return SubmitLocked(action);
        }
    }

    /// <summary>Moves packet time forward (packet-time controllers) and reverts what expired.</summary>
    /// <param name="packetNs">The latest packet time, Unix ns.</param>
    /// <returns>Actions reverted.</returns>
    public int AdvanceTo(long packetNs)
    {
        lock (_gate)
        {
            _packetNowNs = Math.Max(_packetNowNs, packetNs);
            return ExpireDueLocked();
        }
    }

    /// <summary>Reverts every action whose TTL has run out.</summary>
    /// <returns>Actions reverted.</returns>
    public int ExpireDue()
    {
        lock (_gate)
        {
            return _disposed ? 0 : ExpireDueLocked();
        }
    }

    /// <summary>Reverts one action in force by its key.</summary>
    /// <param name="key">The action's <see cref="MitigationRequest.Key"/>.</param>
    /// <returns>False when no such action is in force.</returns>
    public bool Revert(string key)
    {
        lock (_gate)
        {
            if (!_inForce.TryGetValue(key, out Entry? e))
            {
                return false;
            }

            RevertLocked(e, "requested");
            return true;
        }
    }

    /// <summary>
    /// Reverts everything in force, then disposes the handler (when owned). The audit log stays open. Also runs when the
    /// process exits (AppDomain.ProcessExit, raised on a normal end and on SIGTERM) without it.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            _timer?.Dispose();
            foreach (Entry e in _inForce.Values.ToArray())
            {
                RevertLocked(e, "exit");
            }

            if (_options.OwnsHandler)
            {
                _handler.Dispose();
            }
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Dispose();

    private AuditEvent SubmitLocked(MitigationRequest action)
    {
        long now = Now();
        Decided++;
        Audit(now, AuditEvent.Decided, action, null);
        string? refusal = Allowlisted(action);
        if (refusal is null && _inForce.TryGetValue(action.Key, out Entry? existing))
        {
            refusal = $"duplicate: already in force until {Iso(existing.ExpiresNs)}";
        }

        while (_recent.Count > 0 && _recent.Peek() <= now - MinuteNs)
        {
            _recent.Dequeue();
        }

        if (refusal is null && _recent.Count >= _policy.BudgetPerMinute)
        {
            refusal = string.Create(CultureInfo.InvariantCulture, $"budget: {_recent.Count} actions in the last minute (budget_per_minute {_policy.BudgetPerMinute})");
        }

        if (refusal is not null)
        {
            Refused++;
            Audit(now, AuditEvent.Refused, action, refusal);
            return AuditEvent.Refused;
        }

        _recent.Enqueue(now);
        long expires = now + (long)(action.Ttl.Ticks * 100L);
        if (!DryRun)
        {
            try
            {
                _handler.Apply(action);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Failed++;
                Audit(now, AuditEvent.Failed, action, e.Message);
                try
                {
                    _handler.Revert(action); // leave nothing half-applied
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The apply failure is already audited; a failing clean-up adds nothing to it.
                }

                return AuditEvent.Failed;
            }
        }

        _inForce[action.Key] = new Entry(action, expires);
        Applied++;
        AuditEvent outcome = DryRun ? AuditEvent.Simulated : AuditEvent.Applied;
        _audit.Write(now, outcome, _handler.Name, DryRun, action, null, expires);
        return outcome;
    }

    private string? Allowlisted(MitigationRequest action)
    {
        IReadOnlyList<IpNetwork> allow = _policy.Allowlist;
        if (action.Address is IpNetwork target)
        {
            foreach (IpNetwork n in allow)
            {
                if (n.Overlaps(target))
                {
                    return $"allowlist: {target} overlaps allowlisted {n}";
                }
            }
        }
        else if (action.Flow is FlowIdentity f)
        {
            IpNetwork? a = null, b = null;
            foreach (IpNetwork n in allow)
            {
                a ??= n.Contains(f.Source, f.IpVersion) ? n : null;
                b ??= n.Contains(f.Destination, f.IpVersion) ? n : null;
            }

            if (a is not null && b is not null)
            {
                return $"allowlist: both ends of the flow are allowlisted ({a}, {b})";
            }
        }

        return null;
    }

    private int ExpireDueLocked()
    {
        long now = Now();
        int reverted = 0;
        foreach (Entry e in _inForce.Values.Where(e => e.ExpiresNs <= now).ToArray())
        {
            RevertLocked(e, "ttl");
            reverted++;
        }

        return reverted;
    }

    private void RevertLocked(Entry e, string reason)
    {
        long now = Now();
        _inForce.Remove(e.Action.Key);
        if (!DryRun)
        {
            try
            {
                _handler.Revert(e.Action);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Failed++;
                Audit(now, AuditEvent.Failed, e.Action, $"revert ({reason}): {ex.Message}");
                return;
            }
        }

        Reverted++;
        Audit(now, AuditEvent.Reverted, e.Action, reason);
    }

    private void Audit(long now, AuditEvent auditEvent, MitigationRequest action, string? reason) =>
        _audit.Write(now, auditEvent, _handler.Name, DryRun, action, reason);

    private long Now() => _options.PacketTime ? _packetNowNs : (_options.Clock.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100L;

    private static string Iso(long unixNs) =>
        DateTimeOffset.UnixEpoch.AddTicks(unixNs / 100).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private sealed record Entry(MitigationRequest Action, long ExpiresNs);
}
