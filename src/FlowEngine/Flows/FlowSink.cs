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

    /// <summary>
    /// A sink that hands every batch to each of <paramref name="sinks"/> in turn (on the same thread, so each sees the
    /// extensions' data of the batch), and flushes and completes each.
    /// </summary>
    /// <param name="sinks">The sinks, in call order.</param>
    /// <returns>The composite sink.</returns>
    public static IFlowSink Composite(params IFlowSink[] sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        foreach (IFlowSink s in sinks)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(sinks));
        }

        return new CompositeSink([.. sinks]);
    }

    private sealed class DelegateSink(FlowRecordHandler handler) : IFlowSink
    {
        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            foreach (ref readonly FlowRecord r in records)
            {
                handler(in r);
            }
        }

        public void Flush()
        {
        }

        public void Complete()
        {
        }
    }

    private sealed class CompositeSink(IFlowSink[] sinks) : IFlowSink
    {
        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            foreach (IFlowSink s in sinks)
            {
                s.OnFlows(records);
            }
        }

        public void Flush()
        {
            foreach (IFlowSink s in sinks)
            {
                s.Flush();
            }
        }

        public void Complete()
        {
            foreach (IFlowSink s in sinks)
            {
                s.Complete();
            }
        }
    }
}
