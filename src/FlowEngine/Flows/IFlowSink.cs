// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>
/// Receives the flow records that leave a flow table, in batches, on the table's own thread. Records arrive in the
/// order they were emitted; nothing is emitted without reaching the sink.
/// </summary>
public interface IFlowSink
{
    /// <summary>Handles a batch of records. The span (and the extensions' data for its indices) is valid only during the call.</summary>
    /// <param name="records">The records, at least one.</param>
    void OnFlows(ReadOnlySpan<FlowRecord> records);

    /// <summary>
    /// The producer has reached a point where everything it emitted should be visible downstream (the end of a
    /// capture, a table flush): write out what is buffered. More batches may follow.
    /// </summary>
    void Flush();

    /// <summary>No more records will come: flush and finish (a hand-off sink stops its thread). Called once, by the sink's owner.</summary>
    void Complete();
}
