// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>
/// A per-flow extension of a <see cref="FlowTable{TExtension}"/>: a component with state of its own per flow (its own
/// column, indexed by the flow's slot and sized once for the table's capacity) and hooks at flow start, on the flow's
/// early packets and at emit. Application metadata, VM context and feature state plug in this way, without editing the
/// flow table or the flow record.
/// </summary>
/// <remarks>
/// <para>
/// Implemented by a struct, which the table holds by value and calls through its generic constraint: the JIT compiles
/// the table once per extension type, so a hook is a direct (usually inlined) call, and a gate property that returns a
/// constant removes its hook's call site altogether. Implement every member in the struct: a default interface method
/// called through the constraint would box it. Several extensions nest as <see cref="FlowExtensions{TFirst, TSecond}"/>.
/// </para>
/// <para>
/// Each flow carries an active mask of <see cref="MaskBits"/> bits, set from <see cref="OnStart"/>'s result and replaced
/// by each <see cref="OnPacket"/> result. The table calls <see cref="OnPacket"/> only while the mask is not zero, so an
/// extension that has what it needs (after a ClientHello, say) costs the flow's later packets nothing; an extension
/// keeps its own packet budget in its state and clears its bits when the budget is spent. Clearing bits raises
/// <see cref="FlowEventKind.ExtensionDone"/> for the table's <see cref="IFlowEventHandler"/>.
/// </para>
/// <para>
/// All hooks run on the table's thread. Slots are stable while a flow lives; a slot is reused only after
/// <see cref="OnEmit"/> of a record whose <see cref="FlowRecord.EndReason"/> is not
/// <see cref="FlowEndReason.ActiveTimeout"/> (an active-timeout record is followed by a continuation in the same slot,
/// which keeps the extension's state). Hooks must not throw: the table does not catch.
/// </para>
/// </remarks>
public interface IFlowExtension
{
    /// <summary>Bits of the per-flow active mask this extension uses (1 to 32 in all; a single extension uses 1).</summary>
    int MaskBits { get; }

    /// <summary>False when <see cref="OnPacket"/> does nothing: the table then never calls it (return a constant).</summary>
    bool WantsPackets { get; }

    /// <summary>False when <see cref="OnEmit"/> and <see cref="OnDelivered"/> do nothing (return a constant).</summary>
    bool WantsEmit { get; }

    /// <summary>Called once by the table's constructor, before any other hook: allocate the state columns.</summary>
    /// <param name="context">The table's capacity (slots) and record batch size.</param>
    void Initialize(in FlowExtensionContext context);

    /// <summary>A flow starts in <paramref name="slot"/>: reset the slot's state.</summary>
    /// <param name="slot">The flow's slot, 0 to capacity - 1.</param>
    /// <param name="firstPacket">The flow's first packet (not yet accounted; <see cref="OnPacket"/> follows for it).</param>
    /// <param name="frame">The first packet's captured frame (its offsets index it); empty when the packets were given to
    /// the table without their frames.</param>
    /// <param name="firstFromOriginator">False when the first packet came from the responder (a SYN-ACK seen first).</param>
    /// <returns>The flow's active mask: the bits of the extensions that want its packets.</returns>
    uint OnStart(int slot, in DecodedPacket firstPacket, ReadOnlySpan<byte> frame, bool firstFromOriginator);

    /// <summary>A packet of the flow in <paramref name="slot"/>, after the table accounted it; only while the mask is not zero.</summary>
    /// <param name="slot">The flow's slot.</param>
    /// <param name="mask">The flow's active mask (not zero).</param>
    /// <param name="packet">The decoded packet (its offsets index <paramref name="frame"/>).</param>
    /// <param name="frame">The captured frame; empty when the packets were given to the table without their frames.</param>
    /// <param name="fromOriginator">True when the packet came from the flow's originator.</param>
    /// <returns>The new mask: <paramref name="mask"/> with the bits of the extensions that are done cleared.</returns>
    uint OnPacket(int slot, uint mask, in DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator);

    /// <summary>
    /// The flow in <paramref name="slot"/> leaves (or, with <see cref="FlowEndReason.ActiveTimeout"/>, reports and continues) as
    /// <paramref name="record"/>, which the sink receives at index <paramref name="recordIndex"/> of its next batch: keep
    /// what consumers read about that record at that index until <see cref="OnDelivered"/>.
    /// </summary>
    /// <param name="slot">The flow's slot.</param>
    /// <param name="recordIndex">The record's index in the batch being assembled (0 to the record batch size - 1).</param>
    /// <param name="record">The record.</param>
    void OnEmit(int slot, int recordIndex, in FlowRecord record);

    /// <summary>The batch of <paramref name="count"/> records emitted since the last call was delivered to the sink.</summary>
    /// <param name="count">Records in the batch.</param>
    void OnDelivered(int count);
}
