// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>Handles one flow record.</summary>
/// <param name="record">The record; valid only during the call.</param>
public delegate void FlowRecordHandler(in FlowRecord record);

/// <summary>Ready-made <see cref="IFlowSink"/> implementations.</summary>
public static class FlowSink
{
    /// <summary>A sink that calls a delegate for every record.</summary>
    /// <param name="handler">The delegate.</param>
    /// <returns>The sink.</returns>
    public static IFlowSink FromDelegate(FlowRecordHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return new DelegateSink(handler);
    }

    /// <summary>A sink that appends every record to a list.</summary>
    /// <param name="records">The list.</param>
    /// <returns>The sink.</returns>
    public static IFlowSink ToList(List<FlowRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return new DelegateSink((in FlowRecord r) => records.Add(r));
    }

    private sealed class DelegateSink(FlowRecordHandler handler) : IFlowSink
    {
        public void OnFlow(in FlowRecord record) => handler(in record);
    }
}
