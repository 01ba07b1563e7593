// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using CsCheck;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Capture;

namespace FlowEngine.Tests.Packets;

/// <summary>
/// Hostile input: every prefix of every corpus packet, and random mutations of corpus packets, decode without an
/// exception and without reading outside the frame; the flow table accepts whatever the decoder accepts.
/// </summary>
public class DecoderRobustnessTests
{
    private static readonly Lazy<List<(byte[] Frame, LinkType Link)>> s_corpusFrames = new(LoadCorpusFrames);

    private static List<(byte[] Frame, LinkType Link)> LoadCorpusFrames()
    {
        var frames = new List<(byte[], LinkType)>();
        var batch = new PacketBatch(256);
        foreach (var capture in CaptureTestFiles.CorpusCaptures())
        {
            using CaptureFileReader reader = CaptureFile.Open(capture.Path);
            int taken = 0;
            try
            {
                // At most 400 packets per capture keep the prefix sweep bounded (the SYN flood has 37k alike).
                while (taken < 400 && reader.ReadBatch(batch))
                {
                    for (int i = 0; i < batch.Count && taken < 400; i++, taken++)
                    {
                        frames.Add((batch.GetFrame(i).ToArray(), batch.GetLinkType(i)));
                    }
                }
            }
            catch (CaptureFormatException)
            {
                // Damaged corpus files: the packets before the damage are used.
            }
        }

        return frames;
    }

    [Fact]
    public void Decode_EveryPrefixOfEveryCorpusPacket_NeverThrowsOrOverreads()
    {
        var decoder = new PacketDecoder();
        var table = new FlowTable(new FlowTableOptions { MaxFlows = 4096 }, FlowSink.FromDelegate((in FlowRecord _) => { }));
        long prefixes = 0;
        foreach ((byte[] frame, LinkType link) in s_corpusFrames.Value)
        {
            for (int length = 0; length <= frame.Length; length++)
            {
                // A fresh array of exactly the prefix length: any read past it would throw.
                byte[] prefix = frame[..length];
                DecodedPacket p = default;
                p.WireLength = frame.Length;
                bool ok = decoder.Decode(prefix, link, ref p);
                Assert.Equal(ok, p.Reject == RejectReason.None);
                AssertOffsetsInside(in p, length);
                table.Update(in p);
                prefixes++;
            }
        }

        Assert.True(prefixes > 100_000, $"only {prefixes} prefixes");
    }

    [Fact]
    public void Decode_RandomMutationsOfCorpusPackets_NeverThrow()
    {
        var decoder = new PacketDecoder();
        var frames = s_corpusFrames.Value;
        var table = new FlowTable(new FlowTableOptions { MaxFlows = 1024 }, FlowSink.FromDelegate((in FlowRecord _) => { }));
        Gen.Select(Gen.Int[0, frames.Count - 1], Gen.Int.Array[1, 8], Gen.Byte.Array[1, 8])
            .Sample(
                t =>
                {
                    (int index, int[] positions, byte[] values) = t;
                    byte[] frame = (byte[])frames[index].Frame.Clone();
                    if (frame.Length == 0)
                    {
                        return;
                    }

                    for (int i = 0; i < positions.Length; i++)
                    {
                        frame[(int)((uint)positions[i] % (uint)frame.Length)] = values[i % values.Length];
                    }

                    DecodedPacket p = default;
                    decoder.Decode(frame, frames[index].Link, ref p);
                    AssertOffsetsInside(in p, frame.Length);
                    table.Update(in p);
                },
                iter: 200_000,
                threads: 1,
                seed: "0000FlowEngine");
    }

    [Fact]
    public void Decode_RandomBytes_NeverThrow()
    {
        var decoder = new PacketDecoder();
        Gen.Byte.Array[0, 256].Select(Gen.Enum<LinkType>())
            .Sample(
                t =>
                {
                    DecodedPacket p = default;
                    decoder.Decode(t.Item1, t.Item2, ref p);
                    AssertOffsetsInside(in p, t.Item1.Length);
                },
                iter: 100_000,
                threads: 1);
    }

    private static void AssertOffsetsInside(in DecodedPacket p, int length)
    {
        if (p.Reject != RejectReason.None)
        {
            return;
        }

        Assert.InRange(p.IpOffset, 0, length);
        if (p.HasTransport)
        {
            Assert.InRange(p.TransportOffset, p.IpOffset, length);
        }

        if ((p.Flags & PacketFlags.HasGeneveOptions) != 0)
        {
            Assert.InRange(p.GeneveOptionsOffset + p.GeneveOptionsLength, 0, length);
        }
    }
}
