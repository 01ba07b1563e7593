// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>Counters of the application metadata extension.</summary>
public struct AppMetadataStatistics
{
    /// <summary>Packets the extension parsed (payload-carrying packets within the budget).</summary>
    public long PacketsParsed { get; internal set; }

    /// <summary>Flows labelled with an application.</summary>
    public long FlowsLabelled { get; internal set; }

    /// <summary>Flows that found the metadata block pool empty (label and numbers kept, text lost).</summary>
    public long BlocksExhausted { get; internal set; }

    /// <summary>ClientHellos that needed reassembly but found every reassembly buffer taken (parsed from what one segment held).</summary>
    public long ReassemblyExhausted { get; internal set; }

    /// <summary>ClientHellos reassembled from several segments.</summary>
    public long HellosReassembled { get; internal set; }

    /// <summary>Payloads that looked like their protocol but did not parse (counted, skipped; never an exception).</summary>
    public long Malformed { get; internal set; }

    /// <summary>Metadata blocks in use now.</summary>
    public int BlocksInUse { get; internal set; }
}
