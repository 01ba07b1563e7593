// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text.Json;
using FlowEngine.Detection;

namespace FlowEngine.Mitigation;

/// <summary>What happened to a mitigation action, as written to the audit log.</summary>
public enum AuditEvent : byte
{
    /// <summary>The policy chose the action for an alert (every action gets this line first).</summary>
    Decided = 1,

    /// <summary>The handler put it in force.</summary>
    Applied = 2,

    /// <summary>Dry-run: it passed every check and would have been applied; nothing was changed.</summary>
    Simulated = 3,

    /// <summary>A safety rule turned it down (allowlist, duplicate, budget); the reason says which.</summary>
    Refused = 4,

    /// <summary>The handler could not apply or revert it; the reason is its error.</summary>
    Failed = 5,

    /// <summary>It was taken out of force (TTL, exit, or by request); the reason says which.</summary>
    Reverted = 6,
}

/// <summary>
/// The audit log of a <see cref="MitigationController"/>: one JSON object per line for every decision, with the
/// action and the alert that caused it. Lines are flushed as they are written, so the log survives a crash.
/// </summary>
public sealed class MitigationAuditLog : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly Utf8JsonWriter _json;
    private readonly Lock _gate = new();
    private long _lines;

    /// <summary>Writes the log to a stream.</summary>
    /// <param name="stream">Where the lines go.</param>
    /// <param name="ownsStream">Dispose the stream with the log.</param>
    public MitigationAuditLog(Stream stream, bool ownsStream = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _ownsStream = ownsStream;
        _json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, SkipValidation = false });
    }

    /// <summary>Lines written.</summary>
    public long Lines => Volatile.Read(ref _lines);

    /// <summary>Opens (appends to) an audit file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The log.</returns>
    public static MitigationAuditLog Append(string path) => new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), ownsStream: true);

    /// <summary>Writes one line.</summary>
    /// <param name="timeNs">When (Unix ns, on the controller's clock).</param>
    /// <param name="auditEvent">What happened.</param>
    /// <param name="handler">The handler's name.</param>
    /// <param name="dryRun">Whether the controller is in dry-run.</param>
    /// <param name="action">The action.</param>
    /// <param name="reason">Why (refused, failed, reverted), or null.</param>
    /// <param name="expiresNs">When it will be reverted (applied, simulated), or 0.</param>
    public void Write(long timeNs, AuditEvent auditEvent, string handler, bool dryRun, MitigationRequest action, string? reason, long expiresNs = 0)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            Utf8JsonWriter w = _json;
            w.Reset(_stream);
            w.WriteStartObject();
            w.WriteString("time", Iso(timeNs));
            w.WriteNumber("time_ns", timeNs);
            w.WriteString("event", EventName(auditEvent));
            w.WriteString("handler", handler);
            w.WriteBoolean("dry_run", dryRun);
            if (reason is not null)
            {
                w.WriteString("reason", reason);
            }

            if (expiresNs != 0)
            {
                w.WriteString("expires", Iso(expiresNs));
            }

            w.WritePropertyName("action");
            WriteAction(w, action);
            if (action.Cause is Alert alert)
            {
                w.WritePropertyName("alert");
                WriteAlert(w, alert);
            }

            w.WriteEndObject();
            w.Flush();
            _stream.WriteByte((byte)'\n');
            _stream.Flush();
            _lines++;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            _json.Dispose();
            if (_ownsStream)
            {
                _stream.Dispose();
            }
        }
    }

    /// <summary>The event's name in the log: decided, applied, simulated, refused, failed, reverted.</summary>
    /// <param name="auditEvent">The event.</param>
    /// <returns>The name.</returns>
    public static string EventName(AuditEvent auditEvent) => auditEvent.ToString().ToLowerInvariant();

    internal static void WriteAction(Utf8JsonWriter w, MitigationRequest a)
    {
        w.WriteStartObject();
        w.WriteString("kind", a.Kind.ToString().ToLowerInvariant());
        w.WriteString("key", a.Key);
        w.WriteString("network", a.Network.ToString());
        if (a.Address is IpNetwork address)
        {
            w.WriteString("address", address.ToString());
        }

        if (a.Flow is FlowIdentity f)
        {
            WriteFlow(w, "flow", f);
        }

        if (a.Kind == MitigationKind.Block && a.Flow is null)
        {
            w.WriteString("direction", a.Direction.ToString().ToLowerInvariant());
            w.WriteString("protocol", MitigationRequest.ProtocolName(a.Protocol));
            if (a.Port != 0)
            {
                w.WriteNumber("port", a.Port);
            }
        }

        if (a.Rate is ShapeRate r)
        {
            w.WriteNumber(r.Unit == RateUnit.BytesPerSecond ? "bytes_per_second" : "packets_per_second", r.PerSecond);
            w.WriteNumber("burst", r.Burst);
        }

        if (a.Kind == MitigationKind.Isolate)
        {
            w.WriteStartArray("allow");
            foreach (IpNetwork n in a.Allow)
            {
                w.WriteStringValue(n.ToString());
            }

            w.WriteEndArray();
        }

        if (a.Vm is not null)
        {
            w.WriteString("vm", a.Vm);
        }

        w.WriteNumber("ttl_seconds", a.Ttl.TotalSeconds);
        w.WriteEndObject();
    }

    internal static void WriteAlert(Utf8JsonWriter w, in Alert alert)
    {
        w.WriteStartObject();
        w.WriteString("class", MitigationPolicy.ClassName(alert.Class));
        w.WriteNumber("time_ns", alert.TimestampNs);
        w.WriteNumber("confidence", alert.Confidence);
        w.WriteNumber("score", alert.Score);
        if (alert.Vm is not null)
        {
            w.WriteString("vm", alert.Vm);
        }

        if (alert.Target is { } target)
        {
            w.WriteString("target", target.ToString(alert.Flow.IpVersion == 6 ? 6 : 4));
        }

        if (alert.Count != 0)
        {
            w.WriteNumber("count", alert.Count);
        }

        if (alert.LastNs != 0)
        {
            w.WriteNumber("last_ns", alert.LastNs);
        }

        WriteFlow(w, "flow", alert.Flow);
        if (alert.Evidence is { Count: > 0 } evidence)
        {
            w.WriteStartArray("evidence");
            foreach (AlertEvidence e in evidence)
            {
                w.WriteStartObject();
                w.WriteString("rule", e.Rule);
                if (double.IsFinite(e.Value))
                {
                    w.WriteNumber("value", e.Value);
                }

                if (double.IsFinite(e.Threshold))
                {
                    // NaN: the rule has no threshold.
                    w.WriteNumber("threshold", e.Threshold);
                }
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteFlow(Utf8JsonWriter w, string name, in FlowIdentity f)
    {
        int v = f.IpVersion == 6 ? 6 : 4;
        w.WriteStartObject(name);
        w.WriteString("network", f.Network.ToString());
        w.WriteString("protocol", MitigationRequest.ProtocolName(f.Protocol));
        w.WriteString("source", f.Source.ToString(v));
        w.WriteNumber("source_port", f.SourcePort);
        w.WriteString("destination", f.Destination.ToString(v));
        w.WriteNumber("destination_port", f.DestinationPort);
        w.WriteEndObject();
    }

    private static string Iso(long unixNs) =>
        DateTimeOffset.UnixEpoch.AddTicks(unixNs / 100).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
