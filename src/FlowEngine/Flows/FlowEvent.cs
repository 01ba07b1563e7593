// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>
/// A milestone of a running flow, raised on the table's thread while the flow is in its slot, so a handler can read the
/// extensions' state for <see cref="Handle"/> (the VM, the application metadata) and attach a decision with
/// <see cref="Marks"/>.
/// </summary>
public readonly struct FlowEvent
{
    internal FlowEvent(IFlowMarks marks, FlowEventKind kind, FlowHandle handle, in FlowEndpoints flow, long timestampNs, uint doneMask)
    {
        Marks = marks;
        Kind = kind;
        Handle = handle;
        Flow = flow;
        TimestampNs = timestampNs;
        DoneMask = doneMask;
    }

    /// <summary>The marks of the flow's table: attach a decision to <see cref="Handle"/> here.</summary>
    public IFlowMarks Marks { get; }

    /// <summary>What happened.</summary>
    public FlowEventKind Kind { get; }

    /// <summary>The flow.</summary>
    public FlowHandle Handle { get; }

    /// <summary>The flow's key from its originator.</summary>
    public FlowEndpoints Flow { get; }

    /// <summary>Packet time of the event, nanoseconds since the Unix epoch.</summary>
    public long TimestampNs { get; }

    /// <summary>For <see cref="FlowEventKind.ExtensionDone"/>: the mask bits the packet cleared; 0 otherwise.</summary>
    public uint DoneMask { get; }
}
