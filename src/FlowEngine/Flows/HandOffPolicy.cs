// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>What a <see cref="FlowHandOffSink"/> does when its ring is full.</summary>
public enum HandOffPolicy : byte
{
    /// <summary>The producer waits for space (backpressure on the worker); waits are counted.</summary>
    Block = 0,

    /// <summary>The records that do not fit are dropped and counted (the worker never waits).</summary>
    DropNewest = 1,
}
