// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>What happened to a flow while it runs.</summary>
public enum FlowEventKind : byte
{
    /// <summary>The flow's first packet was seen (extensions have run their start hooks; the packet is not yet accounted).</summary>
    Started = 1,

    /// <summary>
    /// One or more extensions are done with the flow's packets (application metadata complete, say):
    /// <see cref="FlowEvent.DoneMask"/> names their bits.
    /// </summary>
    ExtensionDone = 2,
}
