// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>What an inline path does with one packet.</summary>
public enum PacketVerdict : byte
{
    /// <summary>Send it on.</summary>
    Forward = 0,

    /// <summary>Discard it.</summary>
    Drop = 1,
}
