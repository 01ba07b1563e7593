// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Lab;

/// <summary>Ground truth of one attack: when, what, who, in which virtual network.</summary>
/// <param name="StartNs">Attack start, nanoseconds since the Unix epoch.</param>
/// <param name="EndNs">Attack end.</param>
/// <param name="Class">The attack class.</param>
/// <param name="AttackerVm">The attacking VM's name.</param>
/// <param name="Network">The attacker's virtual network.</param>
/// <param name="Attacker">The attacker's address inside its virtual network.</param>
/// <param name="IpVersion">4 or 6.</param>
public readonly record struct AttackLabel(long StartNs, long EndNs, AttackClass Class, string AttackerVm, VirtualNetworkId Network, IpAddress Attacker, byte IpVersion)
{
    /// <summary>
    /// Reads a labels CSV as the lab writes it: a header, then start_ts,end_ts,type,attacker_vm,tenant,vni,attacker_ip,...
    /// (timestamps in Unix seconds with a fraction; fields may be quoted). VNIs name VXLAN networks.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The labels.</returns>
    /// <exception cref="FormatException">A line is malformed; the message names the file and line.</exception>
    public static IReadOnlyList<AttackLabel> ReadCsv(string path)
    {
        var labels = new List<AttackLabel>();
        string[] lines = File.ReadAllLines(path);
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            List<string> f = SplitCsv(lines[i]);
            if (f.Count < 7 || !decimal.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out decimal start)
                || !decimal.TryParse(f[1], NumberStyles.Float, CultureInfo.InvariantCulture, out decimal end)
                || !LabAttackNames.TryParse(f[2], out AttackClass attackClass)
                || !uint.TryParse(f[5], NumberStyles.None, CultureInfo.InvariantCulture, out uint vni)
                || !IPAddress.TryParse(f[6], out IPAddress? attacker))
            {
                throw new FormatException($"{path}: line {i + 1}: expected start_ts,end_ts,type,attacker_vm,tenant,vni,attacker_ip,...");
            }

            labels.Add(new AttackLabel(
                (long)(start * 1_000_000_000m), (long)(end * 1_000_000_000m), attackClass, f[3],
                new VirtualNetworkId(VirtualNetworkKind.Vxlan, vni), IpAddress.From(attacker),
                attacker.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? (byte)6 : (byte)4));
        }

        return labels;
    }

    /// <summary>Splits one CSV line (RFC 4180 quoting).</summary>
    /// <param name="line">The line.</param>
    /// <returns>The fields.</returns>
    public static List<string> SplitCsv(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString());
        return fields;
    }
}
