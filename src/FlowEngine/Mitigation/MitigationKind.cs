// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>What a mitigation action does.</summary>
public enum MitigationKind : byte
{
    /// <summary>Limit a flow or an address (a VM) to a rate.</summary>
    Shape = 1,

    /// <summary>Drop a flow, or the traffic of an address or network (optionally one protocol, port and direction).</summary>
    Block = 2,

    /// <summary>Cut a VM off: nothing in or out except to and from the allowlist.</summary>
    Isolate = 3,
}
