// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Capture;
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

    /// <summary>
    /// Runs the shipped pipeline over the capture: its frames go into <paramref name="batch"/> without a copy (as a
    /// memory-mapped capture file's do) and each full batch goes through <see cref="FlowPipeline{TExtension}.ProcessBatch"/>.
    /// </summary>
    /// <param name="capture">Frames.</param>
    /// <param name="pipeline">The pipeline; flushed by the caller.</param>
    /// <param name="batch">A reusable batch of the pipeline's batch size.</param>
    public static unsafe void Run(SyntheticCapture capture, FlowPipeline pipeline, PacketBatch batch)
    {
        int[] offsets = capture.Offsets;
        int[] lengths = capture.Lengths;
        int[] wireLengths = capture.WireLengths;
        long[] timestamps = capture.TimestampsNs;
        int count = capture.Count;
        LinkType linkType = capture.LinkType;
        fixed (byte* data = capture.Data)
        {
            batch.Clear();
            for (int i = 0; i < count; i++)
            {
                batch.UnsafeAppend((nint)(data + offsets[i]), lengths[i], wireLengths[i], timestamps[i], linkType, 0);
                if (batch.IsFull)
                {
                    pipeline.ProcessBatch(batch);
                    batch.Clear();
                }
            }

            pipeline.ProcessBatch(batch);
            batch.Clear();
        }
    }
}
