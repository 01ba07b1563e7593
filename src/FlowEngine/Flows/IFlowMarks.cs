// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>
/// A 32-bit mark per running flow, kept in the flow's slot: where a decision about the flow (a mitigation action) is
/// attached, so the inline path reads it per packet from the slot it already touches instead of looking the flow up
/// again. A new flow's mark is 0; a continuation after an active timeout keeps it. The low byte is a
/// <see cref="Mitigation.FlowAction"/> that <see cref="FlowPipeline{TExtension}.ProcessInlineBatch"/> enforces; the
/// upper bits are free for the handler that set it.
/// </summary>
public interface IFlowMarks
{
    /// <summary>Sets the mark of a running flow.</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="mark">The mark.</param>
    /// <returns>False when the flow has left its slot (the handle is stale); nothing is changed then.</returns>
    bool TrySetMark(FlowHandle flow, uint mark);

    /// <summary>Reads the mark of a running flow.</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="mark">Its mark; 0 when the handle is stale.</param>
    /// <returns>False when the flow has left its slot.</returns>
    bool TryGetMark(FlowHandle flow, out uint mark);
}
