// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Mitigation;

/// <summary>
/// A packet verdict that also sees, and may set, the mark of the packet's flow: what
/// <see cref="FlowPipeline{TExtension}.ProcessInlineBatch"/> calls instead of <see cref="IPacketVerdict.Decide"/> for
/// every packet that belongs to a flow not marked <see cref="FlowAction.Drop"/>. A mark set here is in the flow's
/// slot from the next packet on, so a decision is looked up once per flow and then read from the slot.
/// </summary>
public interface IFlowVerdict : IPacketVerdict
{
    /// <summary>Decides for one decoded packet of a flow, on the data-plane thread; must not block or allocate.</summary>
    /// <param name="packet">The packet.</param>
    /// <param name="flowMark">The mark in the flow's slot (<see cref="Flows.IFlowMarks"/>); writes go to the slot.</param>
    /// <returns>Forward or drop.</returns>
    PacketVerdict Decide(in DecodedPacket packet, ref uint flowMark);
}
