// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Interop.Dpdk;
using FlowEngine.Interop.Tests.Infrastructure;

namespace FlowEngine.Interop.Tests.Dpdk;

/// <summary>
/// Captures replayed through DPDK (net_pcap vdev, shim, DpdkPacketSource) give the same flow records as the file
/// reader over the same file.
/// </summary>
[Trait("Category", "Native")]
[Collection(EalCollection.Name)]
public class DpdkPcapTests(EalFixture fixture)
{
    public static TheoryData<string> CorpusCaptures() => new()
    {
        "zeek/testing/btest/Traces/tunnels/vxlan.pcap",
        "zeek/testing/btest/Traces/tunnels/geneve.pcap",
        "zeek/testing/btest/Traces/tunnels/gre-within-gre.pcap",
        "zeek/testing/btest/Traces/q-in-q.pcap",
        "zeek/testing/btest/Traces/mixed-vlan-mpls.pcap",
        "zeek/testing/btest/Traces/ipv6-fragmented-dns.pcap",
        "tcpdump/tests/gso-ipv4-vxlan-ipv4.pcap",
        "ndpi/tests/cfgs/default/pcap/icmp-tunnel.pcap",
        "chrissanders-packets/synscan.pcapng",
        "slips/dataset/test-cc/test-cc-capture-1.pcap",
    };

    [Theory]
    [MemberData(nameof(CorpusCaptures))]
    public void CorpusCapture_FlowsEqualFileReader(string relativePath)
    {
        string pcap = TestPaths.ToMicrosecondPcap(Path.Combine(TestPaths.CorporaDirectory(), relativePath));
        AssertSameFlows(pcap, relativePath);
    }

    [Fact]
    public void DefaultCapture_FlowsEqualFileReader()
    {
        string pcap = TestPaths.ToMicrosecondPcap(TestPaths.DefaultCapture());
        List<FlowRecord> flows = AssertSameFlows(pcap, "default.pcapng");
        Assert.True(flows.Count > 5, $"the default capture has {flows.Count} flows");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(256)]
    public void DefaultCapture_AnyBurstSize_FramesEqualFileReader(int batchSize)
    {
        string pcap = TestPaths.ToMicrosecondPcap(TestPaths.DefaultCapture());
        var expected = new List<(byte[] Frame, int Wire, long Ts)>();
        using (CaptureFileReader reader = CaptureFile.Open(pcap))
        {
            var b = new PacketBatch(256);
            while (reader.ReadBatch(b))
            {
                for (int i = 0; i < b.Count; i++)
                {
                    expected.Add((b.GetFrame(i).ToArray(), b.GetWireLength(i), b.GetTimestampNs(i)));
                }
            }
        }

        using DpdkPort port = fixture.Eal.AttachVirtualDevice(fixture.NextDeviceName("net_pcap"), "rx_pcap=" + pcap);
        port.Configure(new DpdkPortOptions(), fixture.Pool);
        port.Start();
        using (DpdkPacketSource source = port.CreateSource(0))
        {
            var batch = new PacketBatch(batchSize);
            int index = 0;
            for (int reads = 0; index < expected.Count && reads < 100_000; reads++)
            {
                Assert.True(source.ReadBatch(batch));
                for (int i = 0; i < batch.Count; i++, index++)
                {
                    Assert.True(batch.GetFrame(i).SequenceEqual(expected[index].Frame), $"frame {index} differs");
                    Assert.Equal(expected[index].Wire, batch.GetWireLength(i));
                    Assert.Equal(expected[index].Ts, batch.GetTimestampNs(i));
                    Assert.Equal(FlowEngine.Packets.LinkType.Ethernet, batch.GetLinkType(i));
                }

                Assert.True(fixture.Pool.Capacity - fixture.Pool.AvailableCount <= batchSize, "more mbufs held than one burst");
            }

            Assert.Equal(expected.Count, index);
        }

        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
    }

    private List<FlowRecord> AssertSameFlows(string pcap, string what)
    {
        var oracle = new List<FlowRecord>();
        long packets;
        using (CaptureFileReader reader = CaptureFile.Open(pcap))
        {
            packets = new FlowPipeline(FlowSink.ToList(oracle)).Run(reader).PacketsRead;
        }

        Assert.True(packets > 0, $"{what}: no packets");
        List<FlowRecord> viaDpdk = DpdkReader.ReadFlows(fixture, pcap, packets);
        FlowAssert.Equal(oracle, viaDpdk, what);
        return viaDpdk;
    }
}
