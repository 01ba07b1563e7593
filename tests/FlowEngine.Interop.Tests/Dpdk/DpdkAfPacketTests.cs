// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Interop.Dpdk;
using FlowEngine.Interop.Tests.Infrastructure;

namespace FlowEngine.Interop.Tests.Dpdk;

/// <summary>DPDK's net_af_packet on a veth with live traffic: the flow carries exactly what was sent.</summary>
[Trait("Category", "Native")]
[Collection(EalCollection.Name)]
public class DpdkAfPacketTests(EalFixture fixture)
{
    [Fact]
    public void Veth_HttpDownload_FlowBytesEqualWhatWasSent()
    {
        using var lab = new VethLab(300_000);
        using DpdkPort port = fixture.Eal.AttachVirtualDevice(fixture.NextDeviceName("net_af_packet"), $"iface={lab.HostInterface},qpairs=1,blocksz=4096,framesz=2048,framecnt=512");
        port.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1 }, fixture.Pool);
        port.Start();
        Assert.True(port.LinkStatus.IsUp);
        using (DpdkPacketSource source = port.CreateSource(0))
        {
            LiveDownload live = LiveCapture.Download(lab, source);
            LiveCapture.AssertDownloadFlow(lab, live);
        }

        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
    }
}
