// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>The decision in the low byte of a flow's mark (<see cref="Flows.IFlowMarks"/>), enforced by the inline path.</summary>
public enum FlowAction : byte
{
    /// <summary>No decision: the packet verdict decides.</summary>
    None = 0,

    /// <summary>Every further packet of the flow is dropped, without asking the packet verdict.</summary>
    Drop = 1,
}
