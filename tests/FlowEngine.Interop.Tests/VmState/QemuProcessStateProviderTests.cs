// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using FlowEngine.Context;
using FlowEngine.Interop.Tests.Infrastructure;
using FlowEngine.Interop.VmState;
using Xunit.Abstractions;

namespace FlowEngine.Interop.Tests.VmState;

/// <summary>
/// The /proc provider against processes started as libvirt starts QEMU (argv[0] <c>qemu-system-x86_64</c>, <c>-name
/// guest=NAME,debug-threads=on</c>): found by name, and their CPU, memory and disk I/O as the kernel accounts them.
/// </summary>
[Trait("Category", "Native")]
[Collection(VmStateCollection.Name)]
public class QemuProcessStateProviderTests(ITestOutputHelper output)
{
    [Fact]
    public void BusyQemuProcess_IsFoundByGuestName_AndIsOneCore()
    {
        string vm = $"testvm-{Tag()}";
        using var busy = LoadProcess.Start(LoadKind.Cpu, qemuGuestName: vm);
        using var provider = new QemuProcessStateProvider();
        Assert.Contains(vm, provider.VmNames);
        Assert.Equal(busy.Pid, provider.Pids[vm]);
        Assert.Equal(100, provider.ClockTicksPerSecond);
        int index = IndexOf(provider, vm);

        busy.Go();
        Thread.Sleep(200);
        var store = new VmStateStore();
        var clock = Stopwatch.StartNew();
        Assert.True(provider.TryRead(index, 1_000_000_000, out VmResourceSample s0));
        store.Push(vm, s0);
        Thread.Sleep(1500); // The measurement window.
        Assert.True(provider.TryRead(index, 1_000_000_000 + (long)clock.Elapsed.TotalNanoseconds, out VmResourceSample s1));
        store.Push(vm, s1);

        Assert.Equal(VmResourceFields.All, s1.Valid);
        Assert.True(store.TryGetState(vm, s1.TimeNs, out VmResourceState state));
        output.WriteLine($"/proc busy {state.CpuCores:F3} cores over {state.IntervalNs / 1e6:F0} ms, rss {state.MemoryBytes}");
        Assert.InRange(state.CpuCores, 0.6, 1.2);
        Assert.InRange(state.MemoryBytes, 1 << 20, 200L << 20); // A python interpreter's RSS.
    }

    [Fact]
    public void QemuProcess_AllocationIsMemory_DirectIoIsDiskBytes()
    {
        const long Allocation = 200L << 20, Bytes = 64L << 20;
        string tag = Tag();
        (string fsType, _) = DiskDevice.Of("/var/tmp");
        string file = Path.Combine("/var/tmp", $"fe-vmstate-{tag}.bin");
        try
        {
            using var mem = LoadProcess.Start(LoadKind.Memory, Allocation, qemuGuestName: $"mem-{tag}");
            using var disk = LoadProcess.Start(LoadKind.Disk, Bytes, file, qemuGuestName: $"disk-{tag}");
            using var provider = new QemuProcessStateProvider();
            int m = IndexOf(provider, $"mem-{tag}"), d = IndexOf(provider, $"disk-{tag}");
            Assert.True(provider.TryRead(m, 1, out VmResourceSample m0));
            Assert.True(provider.TryRead(d, 1, out VmResourceSample d0));
            mem.Go();
            disk.Go();
            mem.Expect("done");
            disk.Expect("written");
            Assert.True(provider.TryRead(m, 2, out VmResourceSample m1));
            Assert.True(provider.TryRead(d, 2, out VmResourceSample d1));
            disk.Go();
            disk.Expect("read");
            Assert.True(provider.TryRead(d, 3, out VmResourceSample d2));

            long grown = m1.MemoryBytes - m0.MemoryBytes, written = d1.DiskWriteBytes - d0.DiskWriteBytes, read = d2.DiskReadBytes - d1.DiskReadBytes;
            output.WriteLine($"/proc rss grew {grown} for {Allocation}; on {fsType} wrote {written}, read {read} for {Bytes}");
            Assert.InRange(grown, (long)(Allocation * 0.8), (long)(Allocation * 1.2));
            Assert.InRange(written, Bytes, (long)(Bytes * 1.1));
            Assert.InRange(read, Bytes, (long)(Bytes * 1.1));
            Assert.Equal(0, provider.Statistics.ReadErrors + provider.Statistics.MalformedFiles);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void OnlyQemuExecutables_AndExitedProcessIsACountedReadError()
    {
        string tag = Tag();
        using var plain = LoadProcess.Start(LoadKind.Idle); // python3 with no -name: never a VM.
        var qemu = LoadProcess.Start(LoadKind.Idle, qemuGuestName: $"exits-{tag}");
        try
        {
            using var provider = new QemuProcessStateProvider();
            Assert.DoesNotContain(provider.Pids.Values, pid => pid == plain.Pid);
            int index = IndexOf(provider, $"exits-{tag}");
            Assert.True(provider.TryRead(index, 1, out _));
            qemu.Dispose(); // Killed and reaped: its /proc files now fail to read.
            Assert.False(provider.TryRead(index, 2, out VmResourceSample gone));
            Assert.Equal(VmResourceFields.None, gone.Valid);
            Assert.Equal(3, provider.Statistics.ReadErrors); // stat, status and io.
            provider.Refresh();
            Assert.DoesNotContain($"exits-{tag}", provider.VmNames);
        }
        finally
        {
            qemu.Dispose();
        }
    }

    private static int IndexOf(QemuProcessStateProvider provider, string vm)
    {
        int i = provider.VmNames.ToList().IndexOf(vm);
        Assert.True(i >= 0, $"{vm} not among {string.Join(", ", provider.VmNames)}");
        return i;
    }

    private static string Tag() => $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}
