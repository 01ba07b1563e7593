// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Detection;

namespace FlowEngine.Lab;

/// <summary>Names of attack classes as they appear in lab labels and reports.</summary>
public static class LabAttackNames
{
    /// <summary>The label name: exfil, c2, synflood, portscan, dnstunnel, lateral (none for <see cref="AttackClass.None"/>).</summary>
    /// <param name="attackClass">The class.</param>
    /// <returns>The name.</returns>
    public static string ToLabel(AttackClass attackClass) => attackClass switch
    {
        AttackClass.Exfiltration => "exfil",
        AttackClass.CommandAndControl => "c2",
        AttackClass.DenialOfService => "synflood",
        AttackClass.Scan => "portscan",
        AttackClass.DnsTunnel => "dnstunnel",
        AttackClass.LateralMovement => "lateral",
        AttackClass.Malware => "malware",
        AttackClass.Anomaly => "anomaly",
        _ => "none",
    };

    /// <summary>Parses a label name (as <see cref="ToLabel"/> writes it; also dos, scan, dns_tunnel, lateral_movement).</summary>
    /// <param name="label">The name.</param>
    /// <param name="attackClass">The class.</param>
    /// <returns>False for an unknown name.</returns>
    public static bool TryParse(string label, out AttackClass attackClass)
    {
        attackClass = label?.Trim().ToUpperInvariant() switch
        {
            "EXFIL" or "EXFILTRATION" => AttackClass.Exfiltration,
            "C2" or "BEACON" or "BEACONING" => AttackClass.CommandAndControl,
            "SYNFLOOD" or "DOS" or "DDOS" => AttackClass.DenialOfService,
            "PORTSCAN" or "SCAN" => AttackClass.Scan,
            "DNSTUNNEL" or "DNS_TUNNEL" => AttackClass.DnsTunnel,
            "LATERAL" or "LATERAL_MOVEMENT" => AttackClass.LateralMovement,
            "MALWARE" or "COINMINER" or "MINER" => AttackClass.Malware,
            "NONE" => AttackClass.None,
            _ => (AttackClass)255,
        };
        return (byte)attackClass != 255;
    }
}
