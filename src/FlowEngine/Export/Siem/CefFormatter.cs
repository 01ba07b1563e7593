// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Export.Siem;

/// <summary>
/// Formats an alert as one ArcSight Common Event Format (CEF:0) line:
/// <c>CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|key=value ...</c>. Header fields escape <c>\</c> and <c>|</c>
/// with a backslash; extension values escape <c>\</c> and <c>=</c>, and write CR and LF as <c>\r</c> and <c>\n</c>;
/// newlines cannot appear in a header field and become spaces there; other control characters become spaces
/// everywhere. No output ever holds a raw CR or LF, so it cannot break the framing it travels in.
/// </summary>
public sealed class CefFormatter
{
    private readonly SiemExportOptions _options;

    /// <summary>Creates a formatter.</summary>
    /// <param name="options">Vendor, product, observer and limits; null for the defaults.</param>
    public CefFormatter(SiemExportOptions? options = null)
    {
        _options = options ?? new SiemExportOptions();
        _options.Validate();
    }

    /// <summary>One alert as a CEF line (no newline).</summary>
    /// <param name="alert">The alert.</param>
    /// <returns>The line.</returns>
    public string Format(in Alert alert)
    {
        FlowIdentity f = alert.Flow;
        var s = new StringBuilder(512);
        s.Append("CEF:0|");
        Header(s, _options.Cut(_options.Vendor));
        Header(s, _options.Cut(_options.Product));
        Header(s, _options.Cut(_options.ProductVersion));
        Header(s, "flowengine." + AlertFormat.ClassName(alert.Class));
        Header(s, AlertFormat.ClassTitle(alert.Class));
        s.Append(AlertFormat.Severity(in alert).ToString(CultureInfo.InvariantCulture)).Append('|');

        string src = AlertFormat.Ip(f.Source, f.IpVersion);
        string dst = AlertFormat.Ip(f.Destination, f.IpVersion);
        long end = alert.LastNs != 0 ? alert.LastNs : alert.TimestampNs;
        bool first = true;
        Ext(s, ref first, "rt", Ms(alert.TimestampNs));
        Ext(s, ref first, "start", Ms(f.FirstNs));
        Ext(s, ref first, "end", Ms(end));
        if (f.IpVersion == 6)
        {
            Ext(s, ref first, "c6a2Label", "Source IPv6 Address");
            Ext(s, ref first, "c6a2", src);
            Ext(s, ref first, "c6a3Label", "Destination IPv6 Address");
            Ext(s, ref first, "c6a3", dst);
        }
        else
        {
            Ext(s, ref first, "src", src);
            Ext(s, ref first, "dst", dst);
        }

        Ext(s, ref first, "spt", f.SourcePort.ToString(CultureInfo.InvariantCulture));
        Ext(s, ref first, "dpt", f.DestinationPort.ToString(CultureInfo.InvariantCulture));
        Ext(s, ref first, "proto", AlertFormat.Transport(f.Protocol).ToUpperInvariant());
        Ext(s, ref first, "cat", AlertFormat.ClassName(alert.Class));
        Ext(s, ref first, "cnt", Math.Max(1, alert.Count).ToString(CultureInfo.InvariantCulture));
        Ext(s, ref first, "externalId", AlertFormat.EventId(in alert));
        Ext(s, ref first, "dvchost", _options.Cut(_options.ObserverName));
        if (double.IsFinite(alert.Score))
        {
            Ext(s, ref first, "cfp1Label", "score");
            Ext(s, ref first, "cfp1", alert.Score.ToString("R", CultureInfo.InvariantCulture));
        }

        if (double.IsFinite(alert.Confidence))
        {
            Ext(s, ref first, "cfp2Label", "confidence");
            Ext(s, ref first, "cfp2", alert.Confidence.ToString("R", CultureInfo.InvariantCulture));
        }

        if (alert.Vm is string vm)
        {
            Ext(s, ref first, "cs1Label", "vm");
            Ext(s, ref first, "cs1", _options.Cut(vm));
        }

        Ext(s, ref first, "cs2Label", "virtualNetwork");
        Ext(s, ref first, "cs2", f.Network.ToString());
        if (alert.Target is IpAddress t)
        {
            Ext(s, ref first, "cs3Label", "target");
            Ext(s, ref first, "cs3", AlertFormat.Ip(t, AlertFormat.TargetVersion(in alert, t)));
        }

        if (alert.TargetName is string targetName)
        {
            Ext(s, ref first, "cs5Label", "targetName");
            Ext(s, ref first, "cs5", _options.Cut(targetName));
        }

        if (alert.Evidence is { Count: > 0 } evidence)
        {
            var e = new StringBuilder();
            for (int i = 0; i < Math.Min(evidence.Count, _options.MaxEvidence); i++)
            {
                AlertEvidence x = evidence[i];
                e.Append(i == 0 ? string.Empty : "; ").Append(x.Rule).Append(' ').Append(x.Value.ToString("G6", CultureInfo.InvariantCulture));
                if (!double.IsNaN(x.Threshold))
                {
                    e.Append(" > ").Append(x.Threshold.ToString("G6", CultureInfo.InvariantCulture));
                }
            }

            Ext(s, ref first, "cs4Label", "evidence");
            Ext(s, ref first, "cs4", _options.Cut(e.ToString()));
        }

        // Last, so a length cut of the whole line falls on the free text.
        Ext(s, ref first, "msg", _options.Cut(EcsAlertWriter.Message(in alert, src, dst, alert.Vm is null ? null : _options.Cut(alert.Vm))));
        return s.ToString();
    }

    // Milliseconds since the epoch, floored.
    private static string Ms(long ns) => ((ns / 1_000_000) - (ns % 1_000_000 < 0 ? 1 : 0)).ToString(CultureInfo.InvariantCulture);

    /// <summary>Appends a header field and its closing pipe: <c>\</c> and <c>|</c> escaped, control characters as spaces.</summary>
    internal static void Header(StringBuilder s, string value)
    {
        foreach (char c in value)
        {
            if (c is '\\' or '|')
            {
                s.Append('\\').Append(c);
            }
            else
            {
                s.Append(char.IsControl(c) ? ' ' : c);
            }
        }

        s.Append('|');
    }

    /// <summary>Appends <c>key=value</c>: <c>\</c> and <c>=</c> escaped, CR and LF as <c>\r</c> and <c>\n</c>, other control characters as spaces.</summary>
    internal static void Ext(StringBuilder s, ref bool first, string key, string value)
    {
        if (!first)
        {
            s.Append(' ');
        }

        first = false;
        s.Append(key).Append('=');
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\':
                    s.Append("\\\\");
                    break;
                case '=':
                    s.Append("\\=");
                    break;
                case '\n':
                    s.Append("\\n");
                    break;
                case '\r':
                    s.Append("\\r");
                    break;
                default:
                    s.Append(char.IsControl(c) ? ' ' : c);
                    break;
            }
        }
    }
}
