// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Interop.Dpdk;
using FlowEngine.Interop.Testing;
using FlowEngine.Interop.Tests.Infrastructure;

namespace FlowEngine.Interop.Tests.Dpdk;

/// <summary>
/// A ring port (net_ring over one rte_ring as RX and TX queue) loaded once with a capture's frames replays them
/// without copies: each burst received is processed, then sent back into the ring. The frames arrive unchanged,
/// cycle after cycle, and their flows equal the file reader's.
/// </summary>
[Trait("Category", "Native")]
[Collection(EalCollection.Name)]
public class DpdkRingTests(EalFixture fixture)
{
    public static TheoryData<string> Captures() => new()
    {
        "default.pcapng",
        "zeek/testing/btest/Traces/tunnels/vxlan.pcap",
        "zeek/testing/btest/Traces/tunnels/geneve.pcap",
        "chrissanders-packets/synscan.pcapng",
    };

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(256)]
    public void DefaultCapture_Replay_FramesEqualFileReaderEveryCycle(int burst)
    {
        List<(byte[] Frame, int Wire, long Ts)> frames = ReadFrames(TestPaths.DefaultCapture());
        using (DpdkPort port = CreateLoadedPort(frames, driverTimestamps: true))
        using (DpdkPacketSource source = port.CreateSource(0, burst))
        {
            Assert.Equal(fixture.Pool.Capacity - frames.Count, fixture.Pool.AvailableCount);
            var batch = new PacketBatch(burst);
            int index = 0;
            for (int reads = 0; index < 3 * frames.Count && reads < 100_000; reads++)
            {
                Assert.True(source.ReadBatch(batch));
                Assert.True(batch.Count > 0, "the ring ran dry");
                for (int i = 0; i < batch.Count; i++, index++)
                {
                    (byte[] frame, int wire, long ts) = frames[index % frames.Count];
                    Assert.True(batch.GetFrame(i).SequenceEqual(frame), $"frame {index} differs");
                    Assert.Equal(wire, batch.GetWireLength(i));
                    Assert.Equal(ts, batch.GetTimestampNs(i));
                }

                Assert.Equal(batch.Count, source.TransmitHeld(port, 0));
            }

            Assert.True(index >= 3 * frames.Count, $"{index} frames replayed");

            // Recycled, not allocated: the pool still lends out exactly the loaded frames.
            Assert.Equal(fixture.Pool.Capacity - frames.Count, fixture.Pool.AvailableCount);
            Assert.Equal(0, source.MultiSegmentFrames);
        }

        // Destroying the port returns the frames still in its ring.
        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void Capture_FlowsEqualFileReader(string relativePath)
    {
        string path = relativePath == "default.pcapng" ? TestPaths.DefaultCapture() : Path.Combine(TestPaths.CorporaDirectory(), relativePath);
        List<FlowRecord> oracle = FlowAssert.FromFile(path);
        List<(byte[] Frame, int Wire, long Ts)> frames = ReadFrames(path);
        Assert.True(frames.Count <= fixture.Pool.Capacity, $"{relativePath}: {frames.Count} frames, more than the pool's {fixture.Pool.Capacity}");

        var records = new List<FlowRecord>();
        using var pipeline = new FlowPipeline(FlowSink.ToList(records), new FlowPipelineOptions { BatchSize = 32 });
        using (DpdkPort port = CreateLoadedPort(frames, driverTimestamps: true))
        using (DpdkPacketSource source = port.CreateSource(0, 32))
        {
            var batch = new PacketBatch(32);
            int read = 0;
            while (read < frames.Count)
            {
                // One cycle exactly: the last burst asks for the frames left (a batch's capacity caps a burst).
                PacketBatch b = frames.Count - read >= batch.Capacity ? batch : new PacketBatch(frames.Count - read);
                Assert.True(source.ReadBatch(b));
                Assert.True(b.Count > 0, $"{relativePath}: the ring ran dry after {read} of {frames.Count} frames");
                pipeline.ProcessBatch(b);
                int take = b.Count;
                read += take;
                Assert.Equal(take, source.TransmitHeld(port, 0));
            }
        }

        pipeline.Flush();
        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
        FlowAssert.Equal(oracle, records, relativePath);
        Assert.True(records.Count > 0, $"{relativePath}: no flows");
    }

    [Fact]
    public void NameTooLong_FailsWithReason()
    {
        var e = Assert.Throws<DpdkException>(() => fixture.Eal.CreateRingPort(new string('r', 23), 16));
        Assert.Contains("1 to 22 characters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PoolTooSmall_LoadFailsWithReasonAndKeepsNothing()
    {
        using DpdkMempool pool = fixture.Eal.CreateMempool(fixture.NextDeviceName("fe-ring-small"), 15, cacheSize: 0);
        using DpdkPort port = fixture.Eal.CreateRingPort(fixture.NextDeviceName("fe-ring"), 64);
        port.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1, Rss = false, Promiscuous = false }, pool);
        port.Start();
        uint[] lengths = new uint[32];
        Array.Fill(lengths, 60u);
        var e = Assert.Throws<DpdkException>(() => port.LoadRing(pool, new byte[32 * 60], lengths, []));
        Assert.Contains("32 buffers requested", e.Message, StringComparison.Ordinal);
        Assert.Equal(pool.Capacity, pool.AvailableCount);
    }

    private DpdkPort CreateLoadedPort(List<(byte[] Frame, int Wire, long Ts)> frames, bool driverTimestamps)
    {
        DpdkPort port = fixture.Eal.CreateRingPort(fixture.NextDeviceName("fe-ring"), frames.Count);
        try
        {
            port.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1, Rss = false, Promiscuous = false, DriverTimestamps = driverTimestamps }, fixture.Pool);
            port.Start();
            byte[] data = frames.SelectMany(f => f.Frame).ToArray();
            uint[] lengths = frames.Select(f => (uint)f.Frame.Length).ToArray();
            long[] timestamps = frames.Select(f => f.Ts).ToArray();
            port.LoadRing(fixture.Pool, data, lengths, timestamps);
            return port;
        }
        catch
        {
            port.Dispose();
            throw;
        }
    }

    private static List<(byte[] Frame, int Wire, long Ts)> ReadFrames(string path)
    {
        var frames = new List<(byte[] Frame, int Wire, long Ts)>();
        using CaptureFileReader reader = CaptureFile.Open(path);
        var batch = new PacketBatch(256);
        while (reader.ReadBatch(batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                // A buffer's length is its frame's wire length: the replay carries whole frames only.
                Assert.True(batch.GetWireLength(i) == batch.GetFrame(i).Length, $"{path}: frame {frames.Count} is truncated ({batch.GetFrame(i).Length} of {batch.GetWireLength(i)} bytes)");
                Assert.Equal(FlowEngine.Packets.LinkType.Ethernet, batch.GetLinkType(i));
                frames.Add((batch.GetFrame(i).ToArray(), batch.GetWireLength(i), batch.GetTimestampNs(i)));
            }
        }

        Assert.NotEmpty(frames);
        return frames;
    }
}
