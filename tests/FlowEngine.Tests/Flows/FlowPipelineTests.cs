// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Mitigation;
using FlowEngine.Packets;
using FlowEngine.Tests.Capture;

namespace FlowEngine.Tests.Flows;

public class FlowPipelineTests
{
    [Theory]
    [InlineData("slips/dataset/test-cc/test-cc-capture-1.pcap")]
    [InlineData("slips/dataset/test19-malicious-ssh/malicious-ssh-bruteforce.pcap")]
    [InlineData("stopddos-packet-captures/pkt.TCP.synflood.spoofed.pcap")]
    public void Run_RecordsDoNotDependOnBatchSizeOrTableSeed(string relativePath)
    {
        string path = Path.Combine(CaptureTestFiles.CorporaDirectory(), relativePath);

        // Short timeouts, so idle, TCP-end and active expiry all happen inside these captures.
        FlowPipelineOptions Options(int batch) => new()
        {
            BatchSize = batch,
            Flows = new FlowTableOptions
            {
                MaxFlows = 4096,
                TcpIdleTimeout = TimeSpan.FromSeconds(3),
                UdpIdleTimeout = TimeSpan.FromSeconds(2),
                ActiveTimeout = TimeSpan.FromSeconds(10),
                TcpCloseLinger = TimeSpan.FromSeconds(1),
            },
        };

        List<FlowRecord> Run(int batch)
        {
            var records = new List<FlowRecord>();
            using var pipeline = new FlowPipeline(FlowSink.ToList(records), Options(batch));
            using CaptureFileReader reader = CaptureFile.Open(path);
            pipeline.Run(reader);
            return records;
        }

        List<FlowRecord> one = Run(1), many = Run(256), odd = Run(37);
        Assert.Contains(one, r => r.EndReason is FlowEndReason.IdleTimeout or FlowEndReason.TcpEnd);
        foreach (List<FlowRecord> other in new[] { many, odd })
        {
            Assert.Equal(one.Count, other.Count);
            for (int i = 0; i < one.Count; i++)
            {
                FlowRecord a = one[i], b = other[i];
                Assert.True(
                    MemoryMarshal.AsBytes(new ReadOnlySpan<FlowRecord>(ref a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<FlowRecord>(ref b))),
                    $"record {i} differs: {a.SourcePort}->{a.DestinationPort} {a.EndReason} vs {b.SourcePort}->{b.DestinationPort} {b.EndReason}");
            }
        }
    }

    [Fact]
    public void TryProcessNext_StepByStep_EqualsRun()
    {
        string path = Path.Combine(CaptureTestFiles.CorporaDirectory(), "slips/dataset/test-cc/test-cc-capture-1.pcap");
        var fromRun = new List<FlowRecord>();
        using (var pipeline = new FlowPipeline(FlowSink.ToList(fromRun), new FlowPipelineOptions { BatchSize = 16 }))
        using (CaptureFileReader reader = CaptureFile.Open(path))
        {
            pipeline.Run(reader);
        }

        var stepped = new List<FlowRecord>();
        using (var pipeline = new FlowPipeline(FlowSink.ToList(stepped), new FlowPipelineOptions { BatchSize = 16 }))
        using (CaptureFileReader reader = CaptureFile.Open(path))
        {
            long frames = 0;
            int steps = 0;
            while (pipeline.TryProcessNext(reader, out int n))
            {
                Assert.InRange(n, 1, 16);
                frames += n;
                steps++;
            }

            Assert.False(pipeline.TryProcessNext(reader, out int after));
            Assert.Equal(0, after);
            Assert.True(steps > 1, "the capture spans several batches");
            Assert.Equal(frames, pipeline.Statistics.PacketsRead);
            pipeline.Flush();
        }

        Assert.Equal(fromRun.Count, stepped.Count);
        Assert.True(fromRun.Count > 0);
        for (int i = 0; i < fromRun.Count; i++)
        {
            FlowRecord a = fromRun[i], b = stepped[i];
            Assert.True(MemoryMarshal.AsBytes(new ReadOnlySpan<FlowRecord>(ref a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<FlowRecord>(ref b))), $"record {i} differs");
        }
    }

    [Fact]
    public void ProcessInlineBatch_VerdictPerDecodedFrame_UndecodedForwarded_SameStatistics()
    {
        // The first frames of a real capture, with an undecodable frame (3 bytes) put between them.
        string path = Path.Combine(CaptureTestFiles.CorporaDirectory(), "slips/dataset/test-cc/test-cc-capture-1.pcap");
        var batch = new PacketBatch(64, copyArenaBytes: 1 << 20);
        using (CaptureFileReader reader = CaptureFile.Open(path))
        {
            var first = new PacketBatch(40);
            Assert.True(reader.ReadBatch(first));
            for (int i = 0; i < first.Count; i++)
            {
                if (i == 5)
                {
                    Assert.True(batch.TryAppendCopy([1, 2, 3], 3, first.GetTimestampNs(i), LinkType.Ethernet));
                }

                Assert.True(batch.TryAppendCopy(first.GetFrame(i), first.GetWireLength(i), first.GetTimestampNs(i), first.GetLinkType(i)));
            }
        }

        var verdict = new EvenPortsDropped();
        var verdicts = new PacketVerdict[batch.Count];
        verdicts.AsSpan().Fill((PacketVerdict)7);
        var inlineRecords = new List<FlowRecord>();
        using var inline = new FlowPipeline(FlowSink.ToList(inlineRecords));
        inline.ProcessInlineBatch(batch, verdict, verdicts);

        var plainRecords = new List<FlowRecord>();
        using var plain = new FlowPipeline(FlowSink.ToList(plainRecords));
        plain.ProcessBatch(batch);

        // Same accounting as ProcessBatch.
        Assert.Equal(plain.Statistics.PacketsRead, inline.Statistics.PacketsRead);
        Assert.Equal(plain.Statistics.PacketsDecoded, inline.Statistics.PacketsDecoded);
        Assert.Equal(plain.Statistics.RejectedByReason(), inline.Statistics.RejectedByReason());
        Assert.Equal(1, inline.Statistics.PacketsRejected);

        // One decision per decoded frame, in frame order; every frame got a verdict, the junk one Forward.
        var decoder = new PacketDecoder();
        int asked = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            DecodedPacket p = default;
            bool decodes = decoder.Decode(batch.GetFrame(i), batch.GetLinkType(i), ref p);
            PacketVerdict expected = decodes && p.SourcePort % 2 == 0 ? PacketVerdict.Drop : PacketVerdict.Forward;
            Assert.True(expected == verdicts[i], $"frame {i}: {verdicts[i]}, expected {expected}");
            if (decodes)
            {
                Assert.Equal(p.SourcePort, verdict.Asked[asked++]);
            }
        }

        Assert.Equal(asked, verdict.Asked.Count);
        Assert.Contains(PacketVerdict.Drop, verdicts);
        Assert.Contains(PacketVerdict.Forward, verdicts);
        Assert.Throws<ArgumentException>(() => inline.ProcessInlineBatch(batch, verdict, new PacketVerdict[batch.Count - 1]));
    }

    private sealed class EvenPortsDropped : IPacketVerdict
    {
        public List<ushort> Asked { get; } = [];

        public PacketVerdict Decide(in DecodedPacket packet)
        {
            Asked.Add(packet.SourcePort);
            return packet.SourcePort % 2 == 0 ? PacketVerdict.Drop : PacketVerdict.Forward;
        }
    }
}
