// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>Why a flow left the flow table.</summary>
public enum FlowEndReason : byte
{
    /// <summary>No packet for longer than the idle timeout of its protocol.</summary>
    IdleTimeout = 1,

    /// <summary>Active longer than the active timeout; the flow goes on and a later record continues it.</summary>
    ActiveTimeout = 2,

    /// <summary>TCP ended: FIN seen in both directions, or a RST; emitted after the close linger.</summary>
    TcpEnd = 3,

    /// <summary>Evicted to make room while the table was full (the oldest idle flow of a sample).</summary>
    Evicted = 4,

    /// <summary>End of input: the table was flushed.</summary>
    EndOfInput = 5,

    /// <summary>A new TCP connection (SYN) reused the key of a closed one.</summary>
    Reused = 6,
}
