// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Interop.Dpdk;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>Reads a pcap file through a net_pcap port into flow records.</summary>
internal static class DpdkReader
{
    /// <summary>
    /// Attaches net_pcap over <paramref name="pcap"/>, reads until <paramref name="expectedPackets"/> frames arrived
    /// (then checks that no more come), flushes, detaches, and checks that every mbuf went back to the pool.
    /// </summary>
    public static List<FlowRecord> ReadFlows(EalFixture eal, string pcap, long expectedPackets, int batchSize = 32)
    {
        var records = new List<FlowRecord>();
        var pipeline = new FlowPipeline(FlowSink.ToList(records));
        using (DpdkPort port = eal.Eal.AttachVirtualDevice(eal.NextDeviceName("net_pcap"), "rx_pcap=" + pcap))
        {
            port.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1 }, eal.Pool);
            port.Start();
            using DpdkPacketSource source = port.CreateSource(0);
            var batch = new PacketBatch(batchSize);
            long read = 0;
            var clock = Stopwatch.StartNew();
            while (read < expectedPackets)
            {
                Assert.True(source.ReadBatch(batch), "a started port ended");
                Assert.True(batch.Count <= batchSize);
                read += batch.Count;
                pipeline.ProcessBatch(batch);
                if (batch.Count == 0)
                {
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{read} of {expectedPackets} frames arrived within 30 s");
                    Thread.Yield();
                }
            }

            Assert.True(source.ReadBatch(batch));
            Assert.Equal(0, batch.Count);
            Assert.Equal(expectedPackets, read);
            Assert.Equal(expectedPackets, port.Statistics.ReceivedPackets);
            Assert.Equal(0, source.MultiSegmentFrames);
        }

        pipeline.Flush();
        Assert.Equal(eal.Pool.Capacity, eal.Pool.AvailableCount);
        return records;
    }
}
