// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Mitigation;

/// <summary>
/// The hook of an inline path: after a packet is decoded and accounted to its flow, decides whether it goes on.
/// Called on the data-plane thread for every decoded packet, so it must not block or allocate.
/// </summary>
public interface IPacketVerdict
{
    /// <summary>Decides for one decoded packet.</summary>
    /// <param name="packet">The packet (its <see cref="DecodedPacket.TimestampNs"/> is the clock of rate limits).</param>
    /// <returns>Forward or drop.</returns>
    PacketVerdict Decide(in DecodedPacket packet);
}
