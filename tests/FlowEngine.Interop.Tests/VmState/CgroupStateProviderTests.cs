// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using FlowEngine.Context;
using FlowEngine.Interop.Tests.Infrastructure;
using FlowEngine.Interop.VmState;
using Xunit.Abstractions;

namespace FlowEngine.Interop.Tests.VmState;

/// <summary>
/// The cgroup providers against the kernel's own accounting of processes the test starts in cgroups it creates.
/// This machine is a hybrid: cgroup v2 at /sys/fs/cgroup/unified offers no cpu, memory or io controller (they are
/// bound to the v1 hierarchies; its cgroup.controllers lists only hugetlb). The v2 test therefore checks CPU through
/// cpu.stat, which the cgroup core keeps without the cpu controller, and checks that memory.current and io.stat are
/// reported as unavailable; memory and disk are tested on v1 (memory, blkio). On a pure v2 host with the controllers
/// delegated the same v2 provider reads all three.
/// </summary>
[Trait("Category", "Native")]
[Collection(VmStateCollection.Name)]
public class CgroupStateProviderTests(ITestOutputHelper output)
{
    /// <summary>A busy loop's CPU share over the window: within [0.6, 1.2] cores on a noisy 2-core machine.</summary>
    private const double MinBusyCores = 0.6, MaxBusyCores = 1.2, MaxIdleCores = 0.05;

    private static readonly TimeSpan s_window = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// cgroup v2, libvirt layout: a cgroup named as libvirt names a domain's scope, found by discovery; a busy loop in
    /// it reads ≈ 1 core and agrees with the kernel's per-process CPU time, an idle process's cgroup reads ≈ 0.
    /// </summary>
    [Fact]
    public void V2_LibvirtScope_BusyLoopIsOneCore_IdleIsZero()
    {
        string tag = Tag();
        string busyName = $"testvm-{tag}", idleName = $"idle-{tag}";
        using var root = TestCgroup.CreateV2($"fe-test-{tag}");
        using var busyScope = TestCgroup.CreateV2($"fe-test-{tag}/machine.slice/machine-qemu\\x2d7\\x2d{busyName.Replace("-", "\\x2d", StringComparison.Ordinal)}.scope");
        using var idleScope = TestCgroup.CreateV2($"fe-test-{tag}/machine.slice/machine-qemu\\x2d8\\x2d{idleName.Replace("-", "\\x2d", StringComparison.Ordinal)}.scope");
        using var busy = LoadProcess.Start(LoadKind.Cpu);
        using var idle = LoadProcess.Start(LoadKind.Idle);
        busyScope.Add(busy.Pid);
        idleScope.Add(idle.Pid);

        using var provider = new CgroupV2StateProvider(libvirtRoot: root.Directories["unified"]);
        Assert.Equal([idleName, busyName], provider.VmNames); // Ordinal order.
        var store = new VmStateStore();
        using var sampler = new VmStateSampler(provider, store);

        busy.Go();
        Thread.Sleep(200); // Let the loop start (and take nice -20) before the window opens.
        long kernel0 = busy.KernelCpuNs();
        Assert.Equal(2, sampler.SampleOnce());
        Thread.Sleep(s_window); // The measurement window: CPU share is CPU time over elapsed time.
        Assert.Equal(2, sampler.SampleOnce());
        long kernel1 = busy.KernelCpuNs();

        Assert.True(store.TryGetState(busyName, 0, out VmResourceState b));
        Assert.True(store.TryGetState(idleName, 0, out VmResourceState i));
        Assert.Equal(VmResourceFields.Cpu, b.Valid); // No memory or io controller on v2 here.
        Assert.InRange(b.CpuCores, MinBusyCores, MaxBusyCores);
        Assert.InRange(i.CpuCores, 0, MaxIdleCores);

        // The cgroup's usage over its interval against the process's own CPU time over (nearly) the same interval.
        double processCores = (kernel1 - kernel0) / (double)b.IntervalNs;
        output.WriteLine($"v2 busy {b.CpuCores:F3} cores (process {processCores:F3}) over {b.IntervalNs / 1e6:F0} ms, idle {i.CpuCores:F4}");
        Assert.InRange(b.CpuCores, processCores - 0.1, processCores + 0.1);

        VmStateProviderStatistics stats = provider.Statistics;
        Assert.Equal(2, stats.Vms);
        Assert.Equal(4, stats.UnavailableFiles); // memory.current and io.stat of both scopes.
        Assert.Equal(0, stats.ReadErrors);
        Assert.Equal(0, stats.MalformedFiles);
        Assert.Equal(0, sampler.ReadFailures + sampler.ProviderExceptions);
    }

    /// <summary>cgroup v1 cpuacct, explicit map, the sampler on its thread recording a timeline: ≈ 1 core, in the store and the timeline.</summary>
    [Fact]
    public void V1_Cpuacct_SamplerThreadAndTimeline_BusyLoopIsOneCore()
    {
        string tag = Tag();
        string vm = $"testvm-{tag}";
        using var cg = TestCgroup.CreateV1($"fe-test-{tag}", "cpuacct");
        using var busy = LoadProcess.Start(LoadKind.Cpu);
        cg.Add(busy.Pid);
        var map = new Dictionary<string, CgroupV1Paths> { [vm] = new(cg.Directories["cpuacct"], null, null) };
        using var provider = new CgroupV1StateProvider(map);
        var store = new VmStateStore();
        string timelinePath = TestPaths.NewTempPath(".csv");
        using (var timeline = new VmStateTimelineWriter(timelinePath))
        using (var sampler = new VmStateSampler(provider, store, TimeSpan.FromMilliseconds(500), timeline))
        {
            busy.Go();
            Thread.Sleep(200);
            sampler.Start();
            Thread.Sleep(s_window + TimeSpan.FromMilliseconds(300)); // Four rounds at 500 ms.
            sampler.Stop();
            Assert.True(sampler.Samples >= 3, $"{sampler.Samples} samples in {s_window}");
            Assert.Equal(0, sampler.ReadFailures + sampler.ProviderExceptions);
        }

        Assert.True(store.TryGetState(vm, 0, out VmResourceState live));
        Assert.Equal(VmResourceFields.Cpu, live.Valid);
        output.WriteLine($"v1 cpuacct busy {live.CpuCores:F3} cores over {live.IntervalNs / 1e6:F0} ms");
        Assert.InRange(live.CpuCores, MinBusyCores, MaxBusyCores);
        Assert.InRange(live.IntervalNs, 300_000_000, 1_500_000_000);

        // The timeline, read back, gives the replay the state the live store gave at the same moment.
        VmStateTimeline replay = VmStateTimeline.Load(timelinePath);
        Assert.True(replay.TryGetState(vm, live.SampleTimeNs, out VmResourceState replayed));
        Assert.Equal(live.CpuCores, replayed.CpuCores, 12);
        Assert.Equal(live.IntervalNs, replayed.IntervalNs);

        // Over the whole recorded window (first to last sample, about 1.5 s) the share is one core as well.
        ReadOnlySpan<VmResourceSample> all = replay.SamplesOf(vm);
        double windowCores = (all[^1].CpuTimeNs - all[0].CpuTimeNs) / (double)(all[^1].TimeNs - all[0].TimeNs);
        output.WriteLine($"v1 cpuacct busy {windowCores:F3} cores over {(all[^1].TimeNs - all[0].TimeNs) / 1e6:F0} ms ({all.Length} samples)");
        Assert.InRange(windowCores, MinBusyCores, MaxBusyCores);
    }

    /// <summary>cgroup v1 memory: a 200 MiB allocation, every page touched, raises memory.usage_in_bytes by at least 80% of it.</summary>
    [Fact]
    public void V1_Memory_GrowingAllocationIsSeen()
    {
        const long Allocation = 200L << 20;
        string tag = Tag();
        string vm = $"testvm-{tag}";
        using var cg = TestCgroup.CreateV1($"fe-test-{tag}", "memory");
        using var p = LoadProcess.Start(LoadKind.Memory, Allocation);
        cg.Add(p.Pid);
        using var provider = new CgroupV1StateProvider(new Dictionary<string, CgroupV1Paths> { [vm] = new(null, cg.Directories["memory"], null) });
        Assert.True(provider.TryRead(0, 1, out VmResourceSample before));
        p.Go();
        p.Expect("done");
        Assert.True(provider.TryRead(0, 2, out VmResourceSample after));
        Assert.Equal(VmResourceFields.Memory, after.Valid);
        long grown = after.MemoryBytes - before.MemoryBytes;
        output.WriteLine($"v1 memory grew {grown} bytes for {Allocation} allocated ({grown / (double)Allocation:F3})");
        Assert.InRange(grown, (long)(Allocation * 0.8), (long)(Allocation * 1.2));
        Assert.Equal(0, provider.Statistics.ReadErrors + provider.Statistics.MalformedFiles);
    }

    /// <summary>
    /// cgroup v1 blkio: 64 MiB written with O_DIRECT to a file on a real disk, then read back with O_DIRECT, show as
    /// disk write and read bytes within [1.0, 1.1] of 64 MiB. This kernel (6.18) keeps blk-throttle statistics only for
    /// a disk that a throttle rule names, so the test sets a 1 TiB/s (no-op) write limit on its own cgroup; the rule
    /// goes with the cgroup, the disk's throttling stays set up with no limit.
    /// </summary>
    [Fact]
    public void V1_Blkio_DirectWritesAndReadsAreSeen()
    {
        const long Bytes = 64L << 20;
        string tag = Tag();
        string vm = $"testvm-{tag}";
        (string fsType, string disk) = DiskDevice.Of("/var/tmp");
        string file = Path.Combine("/var/tmp", $"fe-vmstate-{tag}.bin");
        using var cg = TestCgroup.CreateV1($"fe-test-{tag}", "blkio");
        cg.Write("blkio", "blkio.throttle.write_bps_device", $"{disk} {1L << 40}");
        try
        {
            using var p = LoadProcess.Start(LoadKind.Disk, Bytes, file);
            cg.Add(p.Pid);
            using var provider = new CgroupV1StateProvider(new Dictionary<string, CgroupV1Paths> { [vm] = new(null, null, cg.Directories["blkio"]) });
            var store = new VmStateStore();
            Assert.True(provider.TryRead(0, 1_000_000_000, out VmResourceSample s0));
            store.Push(vm, s0);
            var clock = Stopwatch.StartNew();
            p.Go();
            p.Expect("written");
            Assert.True(provider.TryRead(0, 1_000_000_000 + (clock.ElapsedTicks * 1_000_000_000 / Stopwatch.Frequency), out VmResourceSample s1));
            store.Push(vm, s1);
            p.Go();
            p.Expect("read");
            Assert.True(provider.TryRead(0, s1.TimeNs + 1_000_000_000, out VmResourceSample s2));

            Assert.Equal(VmResourceFields.DiskRead | VmResourceFields.DiskWrite, s1.Valid);
            output.WriteLine($"v1 blkio on {fsType} {disk}: wrote {s1.DiskWriteBytes - s0.DiskWriteBytes}, read {s2.DiskReadBytes - s1.DiskReadBytes} for {Bytes}");
            Assert.InRange(s1.DiskWriteBytes - s0.DiskWriteBytes, Bytes, (long)(Bytes * 1.1));
            Assert.InRange(s2.DiskReadBytes - s1.DiskReadBytes, Bytes, (long)(Bytes * 1.1));
            Assert.True(store.TryGetState(vm, s1.TimeNs, out VmResourceState w));
            Assert.Equal(s1.DiskWriteBytes - s0.DiskWriteBytes, w.DiskWriteBytesPerSecond * w.IntervalNs / 1e9, 3.0);
            Assert.Equal(0, provider.Statistics.ReadErrors + provider.Statistics.MalformedFiles);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A VM's cgroup removed under the provider: the reads fail and are counted, nothing throws, a refresh drops nothing it should keep.</summary>
    [Fact]
    public void RemovedCgroup_ReadFailsAndIsCounted()
    {
        string tag = Tag();
        using var cg = TestCgroup.CreateV2($"fe-test-{tag}");
        using var provider = new CgroupV2StateProvider(new Dictionary<string, string> { ["gone"] = cg.Directories["unified"] });
        var store = new VmStateStore();
        using var sampler = new VmStateSampler(provider, store);
        Assert.Equal(1, sampler.SampleOnce());
        cg.Dispose();
        Assert.Equal(0, sampler.SampleOnce());
        Assert.Equal(1, sampler.ReadFailures);
        Assert.Equal(1, provider.Statistics.ReadErrors);
        Assert.Equal(0, sampler.ProviderExceptions);
    }

    /// <summary>After the first read, a sample is preads into a reused buffer: no allocation, with every provider.</summary>
    [Fact]
    public void SteadyStateSamples_DoNotAllocate()
    {
        string tag = Tag();
        using var v1 = TestCgroup.CreateV1($"fe-test-{tag}", "cpuacct", "memory", "blkio");
        using var v2 = TestCgroup.CreateV2($"fe-test-{tag}");
        using var qemu = LoadProcess.Start(LoadKind.Idle, qemuGuestName: $"alloc-{tag}");
        v1.Add(qemu.Pid);
        v2.Add(qemu.Pid);
        using var p1 = new CgroupV1StateProvider(new Dictionary<string, CgroupV1Paths>
        {
            ["a"] = new(v1.Directories["cpuacct"], v1.Directories["memory"], v1.Directories["blkio"]),
        });
        using var p2 = new CgroupV2StateProvider(new Dictionary<string, string> { ["a"] = v2.Directories["unified"] });
        using var p3 = new QemuProcessStateProvider();
        int q = p3.VmNames.ToList().IndexOf($"alloc-{tag}");
        Assert.True(q >= 0);
        foreach ((IVmStateProvider p, int index, VmResourceFields expected) in new (IVmStateProvider, int, VmResourceFields)[]
        {
            (p1, 0, VmResourceFields.All), (p2, 0, VmResourceFields.Cpu), (p3, q, VmResourceFields.All),
        })
        {
            Assert.True(p.TryRead(index, 1, out VmResourceSample warm));
            Assert.Equal(expected, warm.Valid);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++)
            {
                Assert.True(p.TryRead(index, 2 + i, out _));
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    private static string Tag() => $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class VmStateCollection
{
    public const string Name = "VmState (processes in cgroups; measured one at a time)";
}
