// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Export.Siem;

/// <summary>
/// Formats an alert as one Elastic Common Schema document (nested objects, one line, newline-terminated) into an
/// <see cref="IBufferWriter{T}"/>. ECS fields where ECS has one (docs/siem.md has the table); FlowEngine's own under
/// <c>flowengine.*</c>. Text is escaped by System.Text.Json, so CR, LF and quotes inside a VM name never end the line.
/// </summary>
public sealed class EcsAlertWriter
{
    private static readonly JsonWriterOptions s_writerOptions = new() { SkipValidation = false };
    private readonly SiemExportOptions _options;

    /// <summary>Creates a writer.</summary>
    /// <param name="options">Observer names and limits; null for the defaults.</param>
    public EcsAlertWriter(SiemExportOptions? options = null)
    {
        _options = options ?? new SiemExportOptions();
        _options.Validate();
    }

    /// <summary>Writes one alert and a newline.</summary>
    /// <param name="alert">The alert.</param>
    /// <param name="output">Where the line goes.</param>
    public void Write(in Alert alert, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using (var w = new Utf8JsonWriter(output, s_writerOptions))
        {
            WriteDocument(w, in alert);
        }

        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <summary>One alert as a UTF-8 JSON document without the newline (a webhook body).</summary>
    /// <param name="alert">The alert.</param>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes(in Alert alert)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            WriteDocument(w, in alert);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void WriteDocument(Utf8JsonWriter w, in Alert a)
    {
        FlowIdentity f = a.Flow;
        string src = AlertFormat.Ip(f.Source, f.IpVersion);
        string dst = AlertFormat.Ip(f.Destination, f.IpVersion);
        string? vm = a.Vm is null ? null : _options.Cut(a.Vm);
        string? target = a.Target is IpAddress t ? AlertFormat.Ip(t, AlertFormat.TargetVersion(in a, t)) : null;
        long end = a.LastNs != 0 ? a.LastNs : a.TimestampNs;
        int severity = AlertFormat.Severity(in a);

        w.WriteStartObject();
        w.WriteString("@timestamp"u8, AlertFormat.Rfc3339(a.TimestampNs));
        w.WriteString("message"u8, Message(in a, src, dst, vm));
        w.WriteStartObject("ecs"u8);
        w.WriteString("version"u8, _options.EcsVersion);
        w.WriteEndObject();

        w.WriteStartObject("event"u8);
        w.WriteString("kind"u8, "alert"u8);
        w.WriteStartArray("category"u8);
        w.WriteStringValue("intrusion_detection"u8);
        w.WriteStringValue("network"u8);
        w.WriteEndArray();
        w.WriteStartArray("type"u8);
        w.WriteStringValue("info"u8);
        w.WriteEndArray();
        w.WriteString("id"u8, AlertFormat.EventId(in a));
        w.WriteString("dataset"u8, "flowengine.alert"u8);
        w.WriteString("module"u8, "flowengine"u8);
        w.WriteString("start"u8, AlertFormat.Rfc3339(f.FirstNs));
        w.WriteString("end"u8, AlertFormat.Rfc3339(end));
        w.WriteNumber("duration"u8, Math.Max(0, end - f.FirstNs));
        w.WriteNumber("severity"u8, severity);
        Number(w, "risk_score"u8, a.Score);
        Number(w, "risk_score_norm"u8, Math.Round(Math.Clamp(a.Confidence, 0, 1) * 100, 2));
        w.WriteEndObject();

        w.WriteStartObject("rule"u8);
        w.WriteString("id"u8, "flowengine." + AlertFormat.ClassName(a.Class));
        w.WriteString("name"u8, AlertFormat.ClassName(a.Class));
        w.WriteString("category"u8, AlertFormat.ClassTitle(a.Class));
        w.WriteString("ruleset"u8, "flowengine"u8);
        w.WriteEndObject();

        if (AlertFormat.Tactic(a.Class) is string tactic)
        {
            w.WriteStartObject("threat"u8);
            w.WriteString("framework"u8, "MITRE ATT&CK"u8);
            w.WriteStartObject("tactic"u8);
            w.WriteString("name"u8, tactic);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        Endpoint(w, "source"u8, src, f.SourcePort);
        Endpoint(w, "destination"u8, dst, f.DestinationPort);

        w.WriteStartObject("network"u8);
        w.WriteString("transport"u8, AlertFormat.Transport(f.Protocol));
        w.WriteString("iana_number"u8, f.Protocol.ToString(CultureInfo.InvariantCulture));
        w.WriteString("type"u8, f.IpVersion == 6 ? "ipv6"u8 : "ipv4"u8);
        if (f.Network.Kind == VirtualNetworkKind.Vlan)
        {
            w.WriteStartObject("vlan"u8);
            w.WriteString("id"u8, f.Network.Id.ToString(CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        w.WriteEndObject();

        if (vm is not null)
        {
            w.WriteStartObject("host"u8);
            w.WriteString("name"u8, vm);
            w.WriteEndObject();
        }

        w.WriteStartObject("observer"u8);
        string observer = _options.Cut(_options.ObserverName);
        w.WriteString("name"u8, observer);
        w.WriteString("hostname"u8, observer);
        w.WriteString("type"u8, "ids"u8);
        w.WriteString("vendor"u8, _options.Cut(_options.Vendor));
        w.WriteString("product"u8, _options.Cut(_options.Product));
        w.WriteString("version"u8, _options.Cut(_options.ProductVersion));
        w.WriteEndObject();

        w.WriteStartObject("related"u8);
        w.WriteStartArray("ip"u8);
        w.WriteStringValue(src);
        if (dst != src)
        {
            w.WriteStringValue(dst);
        }

        if (target is not null && target != src && target != dst)
        {
            w.WriteStringValue(target);
        }

        w.WriteEndArray();
        if (vm is not null)
        {
            w.WriteStartArray("hosts"u8);
            w.WriteStringValue(vm);
            w.WriteEndArray();
        }

        w.WriteEndObject();

        w.WriteStartObject("flowengine"u8);
        w.WriteStartObject("alert"u8);
        w.WriteString("class"u8, AlertFormat.ClassName(a.Class));
        Number(w, "score"u8, a.Score);
        Number(w, "confidence"u8, a.Confidence);
        w.WriteNumber("count"u8, Math.Max(1, a.Count));
        if (target is not null)
        {
            w.WriteString("target"u8, target);
        }

        if (a.TargetName is string targetName)
        {
            w.WriteString("target_name"u8, _options.Cut(targetName));
        }

        if (vm is not null)
        {
            w.WriteString("vm"u8, vm);
        }

        if (a.Evidence is { Count: > 0 } evidence)
        {
            int n = Math.Min(evidence.Count, _options.MaxEvidence);
            w.WriteStartArray("evidence"u8);
            for (int i = 0; i < n; i++)
            {
                AlertEvidence e = evidence[i];
                w.WriteStartObject();
                w.WriteString("rule"u8, _options.Cut(e.Rule ?? string.Empty));
                Number(w, "value"u8, e.Value);
                Number(w, "threshold"u8, e.Threshold);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (evidence.Count > n)
            {
                w.WriteNumber("evidence_omitted"u8, evidence.Count - n);
            }
        }

        w.WriteEndObject();
        w.WriteStartObject("network"u8);
        w.WriteString("kind"u8, VirtualNetworkId.KindToName(f.Network.Kind));
        w.WriteNumber("vni"u8, f.Network.Id);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Endpoint(Utf8JsonWriter w, ReadOnlySpan<byte> name, string ip, ushort port)
    {
        w.WriteStartObject(name);
        w.WriteString("ip"u8, ip);
        w.WriteNumber("port"u8, port);
        w.WriteEndObject();
    }

    // JSON has no NaN or infinity: such a value is left out.
    private static void Number(Utf8JsonWriter w, ReadOnlySpan<byte> name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
    }

    internal static string Message(in Alert a, string src, string dst, string? vm) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{AlertFormat.ClassTitle(a.Class)}: {src}:{a.Flow.SourcePort} -> {dst}:{a.Flow.DestinationPort} {AlertFormat.Transport(a.Flow.Protocol)}{(vm is null ? string.Empty : " vm " + vm)}, score {a.Score:0.###}, confidence {a.Confidence:0.##}");
}
