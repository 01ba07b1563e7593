// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>The decision in the low byte of a flow's mark (<see cref="Flows.IFlowMarks"/>), enforced by the inline path.</summary>
public enum FlowAction : byte
{
    /// <summary>No decision: the packet verdict decides.</summary>
    None = 0,

    /// <summary>Every further packet of the flow is dropped, without asking the packet verdict.</summary>
    Drop = 1,

    /// <summary>
    /// The flow's packets pass a token bucket of a <see cref="FlowShaper"/>, named by the mark's upper 24 bits
    /// (<see cref="FlowShaper.Add"/> returns the whole mark). The inline path hands such packets, with a reference to
    /// the mark, to its <see cref="IFlowVerdict"/>, which admits them from the bucket without a lookup; a bucket of
    /// no rate drops every packet, and a removed bucket clears the mark.
    /// </summary>
    Shape = 2,
}
