// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Capture;
using FlowEngine.Flows;
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
}
