// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>What a mitigation rule does to the packets it matches.</summary>
public enum MitigationAction : byte
{
    /// <summary>Drop every matching packet.</summary>
    Drop = 1,

    /// <summary>Forward matching packets up to a rate (token bucket), drop the rest.</summary>
    RateLimit = 2,

    /// <summary>Drop every packet from or to the address unless the other end is in the rule's allowlist.</summary>
    Isolate = 3,
}
