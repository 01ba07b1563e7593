// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>Receives every flow record that leaves a flow table. Called on the table's own thread.</summary>
public interface IFlowSink
{
    /// <summary>Handles one flow record. The reference is valid only during the call.</summary>
    /// <param name="record">The record.</param>
    void OnFlow(in FlowRecord record);
}
