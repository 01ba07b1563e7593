// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using FlowEngine.Detection;

namespace FlowEngine.Export.Siem;

/// <summary>
/// RFC 5424 syslog messages carrying a CEF line:
/// <c>&lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [flowengine@32473 ...] BOM CEF:0|...</c>. Header fields are
/// cut to their RFC lengths and made of printable US-ASCII; structured-data values escape <c>"</c>, <c>\</c> and
/// <c>]</c>; the whole message is cut to a byte budget at a UTF-8 boundary, never leaving a dangling escape.
/// </summary>
public sealed class SyslogMessage
{
    /// <summary>The SD-ID of FlowEngine's structured data (32473 is the private enterprise number RFC 5612 reserves for documentation).</summary>
    public const string SdId = "flowengine@32473";

    /// <summary>Most chars of the VM name in the structured data.</summary>
    public const int MaxSdVmChars = 64;

    private static readonly byte[] s_bom = [0xEF, 0xBB, 0xBF];
    private readonly CefFormatter _cef;
    private readonly SiemExportOptions _options;
    private readonly string _hostname;
    private readonly string _procId;

    /// <summary>Creates a message builder.</summary>
    /// <param name="options">Names and limits; null for the defaults.</param>
    /// <param name="facility">Syslog facility 0 to 23 (default 16, local0).</param>
    /// <param name="maxBytes">Most bytes of one message (RFC 5426 asks receivers for 2048 over UDP; rsyslog takes 8192 by default).</param>
    public SyslogMessage(SiemExportOptions? options = null, int facility = 16, int maxBytes = 2048)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(facility);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(facility, 23);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 480);
        _options = options ?? new SiemExportOptions();
        _cef = new CefFormatter(_options);
        Facility = facility;
        MaxBytes = maxBytes;
        _hostname = HeaderField(_options.ObserverName, 255);
        _procId = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The syslog facility.</summary>
    public int Facility { get; }

    /// <summary>Most bytes of one message.</summary>
    public int MaxBytes { get; }

    /// <summary>One alert as an RFC 5424 message (UTF-8, no framing).</summary>
    /// <param name="alert">The alert.</param>
    /// <returns>The message bytes, at most <see cref="MaxBytes"/>.</returns>
    public byte[] Format(in Alert alert)
    {
        int severity = AlertFormat.Severity(in alert);
        var s = new StringBuilder(768);
        s.Append('<').Append(((Facility * 8) + AlertFormat.SyslogSeverity(severity)).ToString(CultureInfo.InvariantCulture)).Append(">1 ");
        s.Append(AlertFormat.Rfc3339(alert.TimestampNs)).Append(' ');
        s.Append(_hostname).Append(' ');
        s.Append("flowengine ");
        s.Append(_procId).Append(' ');
        s.Append(HeaderField(AlertFormat.ClassName(alert.Class), 32)).Append(' ');
        s.Append('[').Append(SdId);
        Param(s, "id", AlertFormat.EventId(in alert));
        Param(s, "class", AlertFormat.ClassName(alert.Class));
        Param(s, "severity", severity.ToString(CultureInfo.InvariantCulture));
        if (double.IsFinite(alert.Score))
        {
            Param(s, "score", alert.Score.ToString("R", CultureInfo.InvariantCulture));
        }

        if (double.IsFinite(alert.Confidence))
        {
            Param(s, "confidence", alert.Confidence.ToString("R", CultureInfo.InvariantCulture));
        }

        if (alert.Vm is string vm)
        {
            // Short here (the CEF line has it whole): structured data is for filtering, the budget is for the CEF.
            Param(s, "vm", vm.Length <= MaxSdVmChars ? vm : vm[..(char.IsHighSurrogate(vm[MaxSdVmChars - 1]) ? MaxSdVmChars - 1 : MaxSdVmChars)]);
        }

        s.Append("] ");
        string head = s.ToString();
        string cef = _cef.Format(in alert);
        int headBytes = Encoding.UTF8.GetByteCount(head);
        bool ascii = Ascii(cef);
        int room = MaxBytes - headBytes - (ascii ? 0 : s_bom.Length);
        if (room < 0)
        {
            // The structured data alone is over budget (a long VM name): drop its free-text params, keep the id.
            head = head[..head.IndexOf(" class=", StringComparison.Ordinal)] + "] ";
            headBytes = Encoding.UTF8.GetByteCount(head);
            room = Math.Max(0, MaxBytes - headBytes - (ascii ? 0 : s_bom.Length));
        }

        byte[] body = Encoding.UTF8.GetBytes(cef);
        int n = CutUtf8(body, room);
        byte[] message = new byte[headBytes + (ascii ? 0 : s_bom.Length) + n];
        Encoding.UTF8.GetBytes(head, message);
        if (!ascii)
        {
            s_bom.CopyTo(message, headBytes);
        }

        body.AsSpan(0, n).CopyTo(message.AsSpan(message.Length - n));
        return message;
    }

    /// <summary>
    /// The length of the longest prefix of at most <paramref name="max"/> bytes that ends on a UTF-8 boundary and does
    /// not end inside a backslash escape (an odd run of trailing backslashes).
    /// </summary>
    internal static int CutUtf8(ReadOnlySpan<byte> utf8, int max)
    {
        if (utf8.Length <= max)
        {
            return utf8.Length;
        }

        int n = max;
        while (n > 0 && (utf8[n] & 0xC0) == 0x80)
        {
            n--;
        }

        int slashes = 0;
        while (slashes < n && utf8[n - 1 - slashes] == (byte)'\\')
        {
            slashes++;
        }

        return (slashes & 1) == 1 ? n - 1 : n;
    }

    private static bool Ascii(string s)
    {
        foreach (char c in s)
        {
            if (c >= 0x80)
            {
                return false;
            }
        }

        return true;
    }

    // PRINTUSASCII (33-126) only, at most maxLength, "-" when empty (RFC 5424 section 6).
    private static string HeaderField(string value, int maxLength)
    {
        var s = new StringBuilder(Math.Min(value.Length, maxLength));
        foreach (char c in value)
        {
            if (s.Length == maxLength)
            {
                break;
            }

            s.Append(c is >= (char)33 and <= (char)126 ? c : '_');
        }

        return s.Length == 0 ? "-" : s.ToString();
    }

    // PARAM-VALUE: '"', '\' and ']' escaped (RFC 5424 section 6.3.3); control characters become spaces.
    private static void Param(StringBuilder s, string name, string value)
    {
        s.Append(' ').Append(name).Append("=\"");
        foreach (char c in value)
        {
            if (c is '"' or '\\' or ']')
            {
                s.Append('\\');
            }

            s.Append(char.IsControl(c) ? ' ' : c);
        }

        s.Append('"');
    }
}
