// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Pipeline;

/// <summary>
/// Runs the decoder and then a stage over every frame of an in-memory capture, on the calling thread.
/// </summary>
public static class PacketPipeline
{
    /// <summary>Decodes every frame of <paramref name="capture"/> and hands accepted packets to <paramref name="stage"/>.</summary>
    /// <typeparam name="TStage">The stage; a struct, so the call is specialised.</typeparam>
    /// <param name="capture">Frames.</param>
    /// <param name="decoder">Decoder.</param>
    /// <param name="stage">Stage state, updated in place.</param>
    /// <returns>Frames the decoder rejected.</returns>
    public static long Run<TStage>(SyntheticCapture capture, PacketDecoder decoder, ref TStage stage)
        where TStage : struct, IPacketStage
    {
        byte[] data = capture.Data;
        int[] offsets = capture.Offsets;
        int[] lengths = capture.Lengths;
        int[] wireLengths = capture.WireLengths;
        long[] timestamps = capture.TimestampsNs;
        int count = capture.Count;
        LinkType linkType = capture.LinkType;
        long rejected = 0;
        var packet = default(DecodedPacket);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> frame = data.AsSpan(offsets[i], lengths[i]);
            packet.TimestampNs = timestamps[i];
            packet.WireLength = wireLengths[i];
            if (decoder.Decode(frame, linkType, ref packet))
            {
                stage.Process(frame, ref packet);
            }
            else
            {
                rejected++;
            }
        }

        return rejected;
    }
}
