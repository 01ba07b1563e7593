// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Pipeline;

/// <summary>
/// One stage after the decoder (flow table, features, export). Implemented by structs and passed as a generic
/// argument, so <see cref="PacketPipeline.Run"/> is specialised per stage and the call is direct and inlinable.
/// </summary>
public interface IPacketStage
{
    /// <summary>Handles one packet that decoded.</summary>
    /// <param name="frame">The captured bytes; offsets in <paramref name="packet"/> index it.</param>
    /// <param name="packet">The decoder's result.</param>
    void Process(ReadOnlySpan<byte> frame, ref DecodedPacket packet);
}
