// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Detection;

/// <summary>The kinds of malicious behaviour FlowEngine classifies deviating flows into.</summary>
public enum AttackClass : byte
{
    /// <summary>Not an attack.</summary>
    None = 0,

    /// <summary>Data exfiltration: an unusual volume to a destination not contacted before.</summary>
    Exfiltration,

    /// <summary>Command and control: small periodic exchanges with one external host (beaconing).</summary>
    CommandAndControl,

    /// <summary>Denial of service (SYN flood and the like).</summary>
    DenialOfService,

    /// <summary>Port or host scan.</summary>
    Scan,

    /// <summary>DNS tunnelling: many long, unique names under one domain.</summary>
    DnsTunnel,

    /// <summary>Lateral movement: one VM trying administrative services on many internal VMs.</summary>
    LateralMovement,

    /// <summary>Malware: contact with a threat-intelligence indicator, or resource abuse together with its flows.</summary>
    Malware,

    /// <summary>A deviation the model found that fits no class.</summary>
    Anomaly,
}

/// <summary>The names <c>detect</c> writes as an alert's <c>type</c>.</summary>
public static class AttackClassNames
{
    /// <summary>exfiltration, c2, dos, scan, dns_tunnel, lateral_movement, malware, anomaly (none for <see cref="AttackClass.None"/>).</summary>
    /// <param name="attackClass">The class.</param>
    /// <returns>The name.</returns>
    public static string ToName(this AttackClass attackClass) => attackClass switch
    {
        AttackClass.Exfiltration => "exfiltration",
        AttackClass.CommandAndControl => "c2",
        AttackClass.DenialOfService => "dos",
        AttackClass.Scan => "scan",
        AttackClass.DnsTunnel => "dns_tunnel",
        AttackClass.LateralMovement => "lateral_movement",
        AttackClass.Malware => "malware",
        AttackClass.Anomaly => "anomaly",
        _ => "none",
    };
}
