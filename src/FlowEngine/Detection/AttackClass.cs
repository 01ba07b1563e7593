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
}
