// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Export.Siem;

/// <summary>What every SIEM format says of an alert, named once: class names, severity, transport, a stable event id.</summary>
public static class AlertFormat
{
    /// <summary>The name of a class, as rule.name and the CEF signature id carry it: the one <c>detect</c> writes as
    /// <c>type</c> and policies match (<see cref="AttackClassNames.ToName"/>).</summary>
    /// <param name="c">The class.</param>
    /// <returns>The name.</returns>
    public static string ClassName(AttackClass c) => c.ToName();

    /// <summary>A human title of a class (the CEF Name, the ECS message's start).</summary>
    /// <param name="c">The class.</param>
    /// <returns>The title.</returns>
    public static string ClassTitle(AttackClass c) => c switch
    {
        AttackClass.Exfiltration => "Data exfiltration",
        AttackClass.CommandAndControl => "Command and control beaconing",
        AttackClass.DenialOfService => "Denial of service",
        AttackClass.Scan => "Port or host scan",
        AttackClass.DnsTunnel => "DNS tunnelling",
        AttackClass.LateralMovement => "Lateral movement",
        AttackClass.Malware => "Malware or threat-intelligence contact",
        _ => "Anomalous flow",
    };

    /// <summary>The MITRE ATT&amp;CK tactic a class falls under (threat.tactic.name), null when none fits.</summary>
    /// <param name="c">The class.</param>
    /// <returns>The tactic's name.</returns>
    public static string? Tactic(AttackClass c) => c switch
    {
        AttackClass.Exfiltration => "Exfiltration",
        AttackClass.CommandAndControl or AttackClass.DnsTunnel => "Command and Control",
        AttackClass.DenialOfService => "Impact",
        AttackClass.Scan => "Discovery",
        AttackClass.LateralMovement => "Lateral Movement",
        _ => null,
    };

    /// <summary>
    /// Severity 0 to 10 (CEF's scale; ECS event.severity carries the same number): the confidence in tenths, at least 1
    /// for any alert, plus 2 for denial of service and exfiltration (damage under way), at most 10.
    /// </summary>
    /// <param name="alert">The alert.</param>
    /// <returns>The severity.</returns>
    public static int Severity(in Alert alert)
    {
        double confidence = double.IsFinite(alert.Confidence) ? Math.Clamp(alert.Confidence, 0, 1) : 0;
        int s = Math.Max(1, (int)Math.Round(confidence * 10, MidpointRounding.AwayFromZero));
        if (alert.Class is AttackClass.DenialOfService or AttackClass.Exfiltration)
        {
            s += 2;
        }

        return Math.Min(10, s);
    }

    /// <summary>The syslog severity (RFC 5424 section 6.2.1) of a 0-10 severity: 9-10 critical, 7-8 error, 5-6 warning, 3-4 notice, else informational.</summary>
    /// <param name="severity">0 to 10.</param>
    /// <returns>2 to 6.</returns>
    public static int SyslogSeverity(int severity) => severity >= 9 ? 2 : severity >= 7 ? 3 : severity >= 5 ? 4 : severity >= 3 ? 5 : 6;

    /// <summary>The lower-case IANA keyword of a protocol number (network.transport), or the number as text.</summary>
    /// <param name="protocol">IANA protocol number.</param>
    /// <returns>tcp, udp, icmp, ipv6-icmp, sctp, gre, or the number.</returns>
    public static string Transport(byte protocol) => protocol switch
    {
        6 => "tcp",
        17 => "udp",
        1 => "icmp",
        58 => "ipv6-icmp",
        132 => "sctp",
        47 => "gre",
        _ => protocol.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// A stable id of the alert (16 hex digits, XxHash64 of its time, class and flow identity): the same alert gets the
    /// same id on every retry and every sink, so a receiver can drop duplicates (ECS event.id, CEF externalId, the
    /// webhook's Idempotency-Key).
    /// </summary>
    /// <param name="alert">The alert.</param>
    /// <returns>The id.</returns>
    public static string EventId(in Alert alert)
    {
        Span<byte> b = stackalloc byte[64];
        BinaryPrimitives.WriteInt64LittleEndian(b, alert.TimestampNs);
        b[8] = (byte)alert.Class;
        FlowIdentity f = alert.Flow;
        b[9] = (byte)f.Network.Kind;
        BinaryPrimitives.WriteUInt32LittleEndian(b[10..], f.Network.Id);
        b[14] = f.IpVersion;
        b[15] = f.Protocol;
        f.Source.WriteBytes(b[16..]);
        f.Destination.WriteBytes(b[32..]);
        BinaryPrimitives.WriteUInt16LittleEndian(b[48..], f.SourcePort);
        BinaryPrimitives.WriteUInt16LittleEndian(b[50..], f.DestinationPort);
        BinaryPrimitives.WriteInt64LittleEndian(b[52..], f.FirstNs);
        return XxHash64.HashToUInt64(b[..60]).ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>An address as text (dotted quad or RFC 5952), allocation-free formatting into a string.</summary>
    internal static string Ip(in IpAddress a, int ipVersion)
    {
        Span<byte> text = stackalloc byte[Json.Utf8Text.MaxIpBytes];
        int n = 0;
        Json.Utf8Text.Ip(text, ref n, in a, ipVersion);
        return System.Text.Encoding.ASCII.GetString(text[..n]);
    }

    /// <summary>The target's IP version: the flow's when the target is one of its ends, else guessed from the value.</summary>
    internal static int TargetVersion(in Alert alert, IpAddress target) =>
        target == alert.Flow.Source || target == alert.Flow.Destination ? alert.Flow.IpVersion : (target.ToString().Contains(':', StringComparison.Ordinal) ? 6 : 4);

    /// <summary>UTC time of a nanosecond timestamp as RFC 3339 with microseconds (<c>2026-12-08T01:50:00.123456Z</c>).</summary>
    internal static string Rfc3339(long ns)
    {
        long ticks = Math.Clamp(ns / 100, -DateTime.UnixEpoch.Ticks, DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks);
        var t = new DateTime(DateTime.UnixEpoch.Ticks + ticks, DateTimeKind.Utc);
        return t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }
}
