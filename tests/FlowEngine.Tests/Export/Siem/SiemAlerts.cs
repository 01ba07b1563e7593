// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using System.Text;
using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Export.Siem;

/// <summary>Alerts for the SIEM tests: ordinary ones and ones whose text is hostile to every framing.</summary>
internal static class SiemAlerts
{
    /// <summary>VM names that try to break CEF, syslog and JSON framing, or are very long.</summary>
    public static readonly string[] HostileNames =
    [
        "acme-ws1",
        "evil\r\nCEF:0|forged|x|1|1|forged|10|src=6.6.6.6",
        "pipe|name=value\\back\\\\slash",
        "quote\"]bracket\\\"end",
        "non-ascii-\u00E9\u20AC\u4E2D\U0001F4A5",
        "tab\tand\u0000nul\u001Bescape",
        new string('L', 5000) + "-tail",
        "trailing-backslash\\",
    ];

    public static Alert Make(int i, string? vm, int ipVersion = 4, AttackClass c = AttackClass.Scan)
    {
        IpAddress src = IpAddress.From(IPAddress.Parse(ipVersion == 4 ? $"10.0.{i / 250}.{(i % 250) + 1}" : $"fd00::{i + 1:x}"));
        IpAddress dst = IpAddress.From(IPAddress.Parse(ipVersion == 4 ? "10.0.0.31" : "fd00::31"));
        var flow = new FlowIdentity(new VirtualNetworkId(VirtualNetworkKind.Vxlan, 5001), (byte)ipVersion, 6, src, (ushort)(40000 + i), dst, 22, 1_795_483_852_000_000_000 + (i * 1_000_000L));
        return new Alert(1_795_483_853_000_000_000 + (i * 1_000_000L), c, 0.5 + (i % 50 / 100.0), flow)
        {
            Confidence = 0.9,
            Vm = vm,
            Target = dst,
            TargetName = i % 4 == 1 ? "tunnel|x=y.example\\\r\nevil" : null,
            Count = 1 + i,
            LastNs = 1_795_483_854_000_000_000 + (i * 1_000_000L),
            Evidence = [new AlertEvidence("scan.distinct_ports", 120 + i, 50), new AlertEvidence("model.peer=x|y", 0.99, double.NaN)],
        };
    }

    /// <summary>Hostile and plain alerts, IPv4 and IPv6, every class.</summary>
    public static List<Alert> Mixed(int count)
    {
        var alerts = new List<Alert>(count);
        AttackClass[] classes = Enum.GetValues<AttackClass>().Where(c => c != AttackClass.None).ToArray();
        for (int i = 0; i < count; i++)
        {
            alerts.Add(Make(i, i % 5 == 4 ? null : HostileNames[i % HostileNames.Length], i % 3 == 2 ? 6 : 4, classes[i % classes.Length]));
        }

        return alerts;
    }

    /// <summary>Parses a CEF line: the seven header fields (unescaped) and the extension's pairs (unescaped).</summary>
    public static (string[] Header, Dictionary<string, string> Extension) ParseCef(string line)
    {
        var header = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        for (; i < line.Length && header.Count < 7; i++)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length && line[i + 1] is '\\' or '|')
            {
                field.Append(line[++i]);
            }
            else if (c == '|')
            {
                header.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        if (header.Count != 7)
        {
            throw new FormatException($"CEF header has {header.Count} fields: {line}");
        }

        // Extension: a key is [A-Za-z0-9_.]+ before an unescaped '='; a value runs to the space before the next key.
        string ext = line[i..];
        var pairs = new Dictionary<string, string>();
        var keys = new List<(int KeyStart, int ValueStart)>();
        for (int k = 0; k < ext.Length; k++)
        {
            if (ext[k] == '\\')
            {
                k++;
                continue;
            }

            if (ext[k] == '=')
            {
                int start = k;
                while (start > 0 && (char.IsAsciiLetterOrDigit(ext[start - 1]) || ext[start - 1] is '_' or '.'))
                {
                    start--;
                }

                if (start == 0 || ext[start - 1] == ' ')
                {
                    keys.Add((start, k + 1));
                }
                else
                {
                    throw new FormatException($"unescaped '=' inside a value at {k}: {ext}");
                }
            }
        }

        for (int n = 0; n < keys.Count; n++)
        {
            int end = n + 1 < keys.Count ? keys[n + 1].KeyStart - 1 : ext.Length;
            string key = ext[keys[n].KeyStart..(keys[n].ValueStart - 1)];
            pairs[key] = UnescapeValue(ext[keys[n].ValueStart..end]);
        }

        return ([.. header], pairs);
    }

    private static string UnescapeValue(string v)
    {
        var s = new StringBuilder(v.Length);
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i] == '\\' && i + 1 < v.Length)
            {
                char n = v[++i];
                s.Append(n switch { 'n' => '\n', 'r' => '\r', _ => n });
            }
            else
            {
                s.Append(v[i]);
            }
        }

        return s.ToString();
    }

    /// <summary>What a text field becomes in CEF: cut to the limit, control characters other than CR and LF as spaces.</summary>
    public static string AsCefValue(string value, int maxChars = 1024)
    {
        string cut = value.Length <= maxChars ? value : value[..(char.IsHighSurrogate(value[maxChars - 1]) ? maxChars - 1 : maxChars)];
        return new string(cut.Select(c => c is '\r' or '\n' || !char.IsControl(c) ? c : ' ').ToArray());
    }
}
