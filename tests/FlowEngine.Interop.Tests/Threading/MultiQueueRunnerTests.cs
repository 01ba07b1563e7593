// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Diagnostics;
using FlowEngine.Flows;
using FlowEngine.Interop.Dpdk;
using FlowEngine.Interop.Tests.Infrastructure;
using FlowEngine.Interop.Threading;

namespace FlowEngine.Interop.Tests.Threading;

/// <summary>Several RX queues, one pinned worker and flow table each: together they see the flows one worker sees.</summary>
[Trait("Category", "Native")]
[Collection(EalCollection.Name)]
public class MultiQueueRunnerTests(EalFixture fixture)
{
    [Theory]
    [InlineData("default", 4)]
    [InlineData("zeek/testing/btest/Traces/tunnels/gre-within-gre.pcap", 3)]
    [InlineData("chrissanders-packets/synscan.pcapng", 2)]
    public void QueuesWithPinnedWorkers_UnionOfFlowsEqualsSingleWorker(string capture, int queues)
    {
        string source = capture == "default" ? TestPaths.DefaultCapture() : Path.Combine(TestPaths.CorporaDirectory(), capture);
        string pcap = TestPaths.ToMicrosecondPcap(source);
        List<FlowRecord> single = FlowAssert.FromFile(pcap);
        (string[] files, int[] counts) = FlowSplitter.Split(pcap, queues);
        Assert.True(counts.Count(c => c > 0) >= 2, $"the split put every packet in one queue: {string.Join(',', counts)}");
        long total = counts.Sum();

        var perWorker = new ConcurrentBag<FlowRecord>[queues];
        var threadChecks = new ConcurrentBag<string>();
        var pipelines = new FlowPipeline[queues];
        for (int w = 0; w < queues; w++)
        {
            var bag = perWorker[w] = new ConcurrentBag<FlowRecord>();
            int worker = w;
            pipelines[w] = new FlowPipeline(FlowSink.FromDelegate((in FlowRecord r) =>
            {
                if (bag.IsEmpty)
                {
                    threadChecks.Add($"{worker}:{Thread.CurrentThread.Name}:{string.Join('+', CpuAffinity.GetCurrentThread())}:{DpdkEal.CurrentLcoreId()}");
                }

                bag.Add(r);
            }));
        }

        string args = string.Join(',', files.Select(f => "rx_pcap=" + f));
        using DpdkPort port = fixture.Eal.AttachVirtualDevice(fixture.NextDeviceName("net_pcap"), args);
        port.Configure(new DpdkPortOptions { RxQueues = queues, TxQueues = queues }, fixture.Pool);
        port.Start();
        var sources = Enumerable.Range(0, queues).Select(q => (FlowEngine.Capture.IPacketSource)port.CreateSource(q)).ToArray();
        IReadOnlyList<int> cpus = CpuAffinity.GetCurrentThread();
        try
        {
            using var cancel = new CancellationTokenSource();
            IReadOnlyList<QueueWorkerResult>? results = null;
            Exception? failure = null;
            var runner = new Thread(() =>
            {
                try
                {
                    results = MultiQueueRunner.Run(sources, pipelines, new MultiQueueRunnerOptions { Cpus = cpus }, cancel.Token);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            runner.Start();
            var clock = Stopwatch.StartNew();
            while (port.Statistics.ReceivedPackets < total && clock.Elapsed < TimeSpan.FromSeconds(30) && runner.IsAlive)
            {
                Thread.Sleep(5);
            }

            cancel.Cancel();
            Assert.True(runner.Join(TimeSpan.FromSeconds(30)), "workers did not stop within 30 s of cancellation");
            Assert.Null(failure);
            Assert.NotNull(results);
            Assert.Equal(total, port.Statistics.ReceivedPackets);
            Assert.Equal(total, results.Sum(r => r.Statistics.PacketsRead));
            for (int q = 0; q < queues; q++)
            {
                Assert.Equal(counts[q], results[q].Statistics.PacketsRead);
                Assert.Equal(counts[q], port.GetQueueReceivedPackets(q));
                Assert.Equal(cpus[q % cpus.Count], results[q].Cpu);
                Assert.True(results[q].LcoreId >= 0, $"worker {q} was not registered with DPDK");
                Assert.False(results[q].SourceEnded);
            }

        }
        finally
        {
            foreach (var s in sources)
            {
                s.Dispose();
            }
        }

        foreach (string check in threadChecks)
        {
            string[] parts = check.Split(':');
            int worker = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal($"fe-rx-{worker}", parts[1]);
            Assert.Equal(cpus[worker % cpus.Count].ToString(System.Globalization.CultureInfo.InvariantCulture), parts[2]);
            Assert.True(int.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture) >= 0, "sink ran on an unregistered thread");
        }

        // Why a flow left the table depends on the table's packet time, which only its own queue advances: a closed
        // TCP flow whose linger a single table sees pass may still be in its worker's table at the end of input.
        FlowAssert.Equal(single, perWorker.SelectMany(b => b), $"{capture} over {queues} queues", [nameof(FlowRecord.EndReason)]);
        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
    }
}
