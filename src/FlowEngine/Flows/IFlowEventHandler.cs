// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>
/// Receives the milestones of running flows (<see cref="FlowEventKind"/>) on the table's thread, at the packet that
/// caused them: the place to score a flow's destination, port and application while it runs, and to attach a
/// mitigation mark to its slot. A table without a handler raises no event.
/// </summary>
public interface IFlowEventHandler
{
    /// <summary>Handles one event. Runs inline on the packet path: keep it short, allocate nothing, never throw.</summary>
    /// <param name="flowEvent">The event.</param>
    void OnFlowEvent(in FlowEvent flowEvent);
}
