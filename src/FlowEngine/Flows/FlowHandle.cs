// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>
/// Names one flow of one table while it lives: its slot and the slot's generation, so a handle kept past the flow's
/// end refers to nothing instead of to the next flow in that slot. Given by <see cref="FlowEvent"/>; used to attach a
/// mark (a mitigation decision) to the flow, which the inline path then reads from the slot per packet.
/// </summary>
/// <param name="Slot">The flow's slot in its table.</param>
/// <param name="Generation">The slot's generation when the flow started (24 bits).</param>
public readonly record struct FlowHandle(int Slot, uint Generation);
