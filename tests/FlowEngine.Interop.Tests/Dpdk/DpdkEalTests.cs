// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Interop.Dpdk;
using FlowEngine.Interop.Tests.Infrastructure;

namespace FlowEngine.Interop.Tests.Dpdk;

/// <summary>EAL, mempool and port errors and state, on the shared EAL.</summary>
[Trait("Category", "Native")]
[Collection(EalCollection.Name)]
public class DpdkEalTests(EalFixture fixture)
{
    [Fact]
    public void Initialize_Twice_ThrowsEalInit()
    {
        DpdkException e = Assert.Throws<DpdkException>(() => DpdkEal.Initialize(["--no-huge"]));
        Assert.Equal(DpdkFailure.EalInit, e.Failure);
        Assert.Contains("once", e.Message, StringComparison.Ordinal);
        Assert.Same(fixture.Eal, DpdkEal.Current);
    }

    [Fact]
    public void Initialize_LeavesCallerUnpinned()
    {
        // The fixture initialised EAL on some test thread; EAL pins its caller, the shim undoes that.
        Assert.Equal(Environment.ProcessorCount, FlowEngine.Interop.Threading.CpuAffinity.GetCurrentThread().Count);
    }

    [Fact]
    public void OpenPort_Missing_ThrowsPortNotFound()
    {
        DpdkException e = Assert.Throws<DpdkException>(() => fixture.Eal.OpenPort("net_nothing9"));
        Assert.Equal(DpdkFailure.PortNotFound, e.Failure);
        Assert.Contains("net_nothing9", e.Message, StringComparison.Ordinal);
        Assert.True(e.ErrorCode < 0);
    }

    [Fact]
    public void AttachVirtualDevice_MissingFile_ThrowsPortNotFound()
    {
        DpdkException e = Assert.Throws<DpdkException>(() => fixture.Eal.AttachVirtualDevice(fixture.NextDeviceName("net_pcap"), "rx_pcap=/nonexistent/x.pcap"));
        Assert.Equal(DpdkFailure.PortNotFound, e.Failure);
    }

    [Fact]
    public void Configure_TooManyQueues_ThrowsWithDeviceLimit()
    {
        string pcap = TestPaths.ToMicrosecondPcap(TestPaths.DefaultCapture());
        using DpdkPort port = fixture.Eal.AttachVirtualDevice(fixture.NextDeviceName("net_pcap"), "rx_pcap=" + pcap);
        DpdkException e = Assert.Throws<DpdkException>(() => port.Configure(new DpdkPortOptions { RxQueues = 8 }, fixture.Pool));
        Assert.Equal(DpdkFailure.NativeCall, e.Failure);
        Assert.Contains("RX queues", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Port_AfterStop_SourceEnds_AndLinkAndCountersRead()
    {
        string pcap = TestPaths.ToMicrosecondPcap(TestPaths.DefaultCapture());
        using DpdkPort port = fixture.Eal.AttachVirtualDevice(fixture.NextDeviceName("net_pcap"), "rx_pcap=" + pcap);
        port.Configure(new DpdkPortOptions(), fixture.Pool);
        port.Start();
        Assert.True(port.LinkStatus.IsUp);
        using DpdkPacketSource source = port.CreateSource(0);
        var batch = new FlowEngine.Capture.PacketBatch(32);
        Assert.True(source.ReadBatch(batch));
        Assert.Equal(32, batch.Count);
        Assert.Equal(fixture.Pool.Capacity - 32, fixture.Pool.AvailableCount);
        port.Stop();
        Assert.False(source.ReadBatch(batch));
        Assert.Equal(0, batch.Count);
        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
        Assert.Equal(32, port.Statistics.ReceivedPackets);
        Assert.Equal(32, port.GetQueueReceivedPackets(0));
    }

    [Fact]
    public void Dispose_FreesHeldBurst()
    {
        string pcap = TestPaths.ToMicrosecondPcap(TestPaths.DefaultCapture());
        using DpdkPort port = fixture.Eal.AttachVirtualDevice(fixture.NextDeviceName("net_pcap"), "rx_pcap=" + pcap);
        port.Configure(new DpdkPortOptions(), fixture.Pool);
        port.Start();
        var batch = new FlowEngine.Capture.PacketBatch(17);
        using (DpdkPacketSource source = port.CreateSource(0))
        {
            Assert.True(source.ReadBatch(batch));
            Assert.Equal(17, batch.Count);
            Assert.Equal(fixture.Pool.Capacity - 17, fixture.Pool.AvailableCount);
        }

        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
    }
}
