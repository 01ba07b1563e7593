// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using FlowEngine.Flows;
using FlowEngine.Interop.AfPacket;
using FlowEngine.Interop.Tests.Infrastructure;
using FlowEngine.Interop.Threading;

namespace FlowEngine.Interop.Tests.AfPacket;

/// <summary>The TPACKET_V3 ring source on a veth in a network namespace, with live traffic.</summary>
[Trait("Category", "Native")]
public class AfPacketSourceTests
{
    [Fact]
    public void Veth_HttpDownload_FlowBytesEqualWhatWasSent()
    {
        using var lab = new VethLab(400_000);
        using var source = new AfPacketSource(lab.HostInterface, new AfPacketOptions { BlockSizeBytes = 1 << 20, BlockCount = 8 });
        LiveDownload live = LiveCapture.Download(lab, source);
        LiveCapture.AssertDownloadFlow(lab, live);
        (long packets, long drops) = source.ReadKernelStatistics();
        Assert.True(drops == 0, $"the kernel dropped {drops} of {packets} frames: the ring was full");
        Assert.True(packets > 0);
    }

    /// <summary>
    /// Rings that wrap many times during the download (small blocks, few of them), batches that end mid-block
    /// (7) or hold several blocks' worth (256): every frame is delivered once, as tcpdump saw it.
    /// </summary>
    [Theory]
    [InlineData(2_000_000, 16384, 64, 7)]
    [InlineData(2_000_000, 65536, 16, 256)]
    [InlineData(2_000_000, 4096, 256, 32)]
    public void Veth_SmallRing_EveryFrameOnce(int fileBytes, int blockSize, int blockCount, int batchSize)
    {
        // The server's side is paced at 30 Mbit/s (tbf with 16 KB bursts), about 2500 frames/s. The kernel retires a
        // block when it is full or after BlockTimeoutMs, so at this rate each ring holds 200-300 ms (blocks x
        // min(fill time, timeout)): a reader descheduled by the tests running beside it (2 vCPUs) does not let it
        // fill. (With a 1 ms timeout, 16 blocks of 64 KiB held only 16 ms and dropped frames.)
        using var lab = new VethLab(fileBytes, "30mbit");
        using var source = new AfPacketSource(lab.HostInterface, new AfPacketOptions { BlockSizeBytes = blockSize, BlockCount = blockCount, BlockTimeoutMs = 20 });
        LiveDownload live = LiveCapture.Download(lab, source, batchSize);
        (long packets, long drops) = source.ReadKernelStatistics();
        Assert.True(drops == 0, $"the kernel dropped {drops} of {packets} frames: the ring was full");
        LiveCapture.AssertDownloadFlow(lab, live);
    }

    [Fact]
    public void Fanout_TwoPinnedWorkers_OneFlowWithEveryByte()
    {
        using var lab = new VethLab(500_000);
        int group = 0x4000 + (Environment.ProcessId % 0x4000);
        var options = new AfPacketOptions { BlockSizeBytes = 1 << 20, BlockCount = 8, FanoutGroup = group, PollTimeoutMs = 20 };
        using var first = new AfPacketSource(lab.HostInterface, options);
        using var second = new AfPacketSource(lab.HostInterface, options);
        var flows = new ConcurrentBag<FlowRecord>();
        var pipelines = new[] { new FlowPipeline(FlowSink.FromDelegate((in FlowRecord r) => flows.Add(r))), new FlowPipeline(FlowSink.FromDelegate((in FlowRecord r) => flows.Add(r))) };
        using var cancel = new CancellationTokenSource();
        IReadOnlyList<QueueWorkerResult>? results = null;
        Exception? failure = null;
        var runner = new Thread(() =>
        {
            try
            {
                results = MultiQueueRunner.Run([first, second], pipelines, new MultiQueueRunnerOptions(), cancel.Token);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        runner.Start();
        using var tcpdump = new TcpdumpCapture(lab.HostInterface);
        long request, response;
        using (Process curl = lab.StartCurl())
        {
            (request, response) = LiveCapture.CurlSizes(curl, lab);
        }

        // The last segments may still sit in a ring block; the block timeout hands them over within 10 ms.
        var quiet = Stopwatch.StartNew();
        long seen = -1;
        long drops = 0;
        while (quiet.Elapsed < TimeSpan.FromSeconds(5))
        {
            (long p1, long d1) = first.ReadKernelStatistics();
            (long p2, long d2) = second.ReadKernelStatistics();
            long now = p1 + p2;
            drops = d1 + d2;
            if (now == seen)
            {
                break;
            }

            seen = now;
            Thread.Sleep(100);
        }

        cancel.Cancel();
        Assert.True(runner.Join(TimeSpan.FromSeconds(30)), "workers did not stop within 30 s");
        Assert.Null(failure);
        Assert.NotNull(results);
        Assert.True(drops == 0, $"the kernel dropped {drops} frames: the rings were full");
        (long frames, long tcpdumpDrops) = tcpdump.Stop();
        Assert.Equal(0, tcpdumpDrops);
        // Flows of one worker end at its last packet: records can split differently, so EndReason is not compared.
        LiveCapture.AssertDownloadFlow(lab, new LiveDownload(flows.ToList(), request, response, tcpdump.Path, frames), [nameof(FlowRecord.EndReason)]);
        // The kernel spread the traffic by flow hash: the HTTP flow's packets all went to one of the two workers.
        Assert.Contains(results, r => r.Statistics.PacketsRead > 0);
    }

    [Fact]
    public void MissingInterface_ThrowsWithName()
    {
        Win32Exception e = Assert.Throws<Win32Exception>(() => new AfPacketSource("fe-no-such-if"));
        Assert.Contains("fe-no-such-if", e.Message, StringComparison.Ordinal);
    }
}
