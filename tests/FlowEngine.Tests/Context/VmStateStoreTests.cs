// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Context;

namespace FlowEngine.Tests.Context;

public class VmStateStoreTests
{
    [Fact]
    public void Sample_IsBlittable48Bytes()
    {
        Assert.Equal(VmResourceSample.SizeBytes, Unsafe.SizeOf<VmResourceSample>());
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<VmResourceSample>());
    }

    [Fact]
    public void TwoSamples_StateHasRatesOverTheInterval()
    {
        var store = new VmStateStore();
        Assert.True(store.Push("web1", new VmResourceSample(1_000_000_000, VmResourceFields.All, 5_000_000_000, 100, 1000, 2000)));
        Assert.True(store.TryGetState("web1", 1_500_000_000, out VmResourceState one));
        Assert.Equal(VmResourceFields.Memory, one.Valid); // One sample: no rate yet.
        Assert.Equal(500_000_000, one.SampleAgeNs);

        Assert.True(store.Push("web1", new VmResourceSample(3_000_000_000, VmResourceFields.All, 8_000_000_000, 300, 5000, 2000)));
        Assert.True(store.TryGetState("web1", 3_000_000_000, out VmResourceState s));
        Assert.Equal(VmResourceFields.All, s.Valid);
        Assert.Equal(1.5, s.CpuCores, 9);                 // 3 s of CPU over 2 s.
        Assert.Equal(300, s.MemoryBytes);
        Assert.Equal(2000.0, s.DiskReadBytesPerSecond, 9);
        Assert.Equal(0.0, s.DiskWriteBytesPerSecond, 9);
        Assert.Equal(2_000_000_000, s.IntervalNs);
        Assert.Equal(0, s.SampleAgeNs);
        Assert.False(store.TryGetState("db1", 0, out _));
    }

    [Fact]
    public void OlderOrEqualSample_IsRejectedAndCounted()
    {
        var store = new VmStateStore();
        Assert.True(store.Push("a", new VmResourceSample(10, VmResourceFields.Cpu, 1, 0, 0, 0)));
        Assert.False(store.Push("a", new VmResourceSample(10, VmResourceFields.Cpu, 2, 0, 0, 0)));
        Assert.False(store.Push("a", new VmResourceSample(5, VmResourceFields.Cpu, 2, 0, 0, 0)));
        Assert.Equal(1, store.AcceptedSamples);
        Assert.Equal(2, store.RejectedSamples);
    }

    [Fact]
    public void CounterGoingBackwards_RateNotValid()
    {
        var store = new VmStateStore();
        store.Push("a", new VmResourceSample(1_000_000_000, VmResourceFields.All, 9_000, 1, 9_000, 9_000));
        store.Push("a", new VmResourceSample(2_000_000_000, VmResourceFields.All, 1_000, 2, 1_000, 10_000));
        Assert.True(store.TryGetState("a", 2_000_000_000, out VmResourceState s));
        Assert.Equal(VmResourceFields.Memory | VmResourceFields.DiskWrite, s.Valid);
        Assert.Equal(1000.0, s.DiskWriteBytesPerSecond, 9);
    }

    [Fact]
    public void Full_RejectsNewVms()
    {
        var store = new VmStateStore(capacity: 2);
        Assert.True(store.Push("a", new VmResourceSample(1, VmResourceFields.Cpu, 1, 0, 0, 0)));
        Assert.True(store.Push("b", new VmResourceSample(1, VmResourceFields.Cpu, 1, 0, 0, 0)));
        Assert.False(store.Push("c", new VmResourceSample(1, VmResourceFields.Cpu, 1, 0, 0, 0)));
        Assert.Equal(-1, store.Register("c"));
        Assert.Equal(["a", "b"], store.VmNames);
        Assert.Equal(1, store.RejectedSamples);
    }

    /// <summary>
    /// A writer pushes samples whose every field is derived from one counter; readers on other threads check each copy
    /// they get is one whole sample and that the pair is consecutive. A torn copy would mix two counters' fields.
    /// </summary>
    [Fact]
    public void ConcurrentReaders_NeverSeeATornSample()
    {
        var store = new VmStateStore(capacity: 4);
        int index = store.Register("vm");
        const int Readers = 2;
        long writes = 0, reads = 0, torn = 0;
        using var stop = new CancellationTokenSource();
        var readers = new Thread[Readers];
        for (int r = 0; r < Readers; r++)
        {
            readers[r] = new Thread(() =>
            {
                long local = 0, bad = 0;
                while (!stop.IsCancellationRequested)
                {
                    if (!store.TryGetSamples(index, out VmResourceSample prev, out bool hasPrev, out VmResourceSample latest))
                    {
                        continue;
                    }

                    local++;
                    if (!Whole(latest) || (hasPrev && (!Whole(prev) || prev.TimeNs != latest.TimeNs - 1)))
                    {
                        bad++;
                    }
                }

                Interlocked.Add(ref reads, local);
                Interlocked.Add(ref torn, bad);
            })
            { IsBackground = true };
            readers[r].Start();
        }

        var deadline = System.Diagnostics.Stopwatch.StartNew();
        long n = 1;
        while (deadline.ElapsedMilliseconds < 1500)
        {
            long v = n * 7919;
            Assert.True(store.Push(index, new VmResourceSample(n, VmResourceFields.All, v, v + 1, v + 2, v + 3)));
            n++;
            writes++;
        }

        stop.Cancel();
        foreach (Thread t in readers)
        {
            Assert.True(t.Join(TimeSpan.FromSeconds(10)));
        }

        Assert.True(writes > 10_000, $"only {writes} writes");
        Assert.True(reads > 10_000, $"only {reads} reads");
        Assert.Equal(0, torn);

        static bool Whole(in VmResourceSample s)
        {
            long v = s.TimeNs * 7919;
            return s.Valid == VmResourceFields.All && s.CpuTimeNs == v && s.MemoryBytes == v + 1 && s.DiskReadBytes == v + 2 && s.DiskWriteBytes == v + 3;
        }
    }

    [Fact]
    public void Reads_DoNotAllocate()
    {
        var store = new VmStateStore();
        store.Push("web1", new VmResourceSample(1, VmResourceFields.All, 1, 1, 1, 1));
        store.Push("web1", new VmResourceSample(2, VmResourceFields.All, 2, 2, 2, 2));
        store.TryGetState("web1", 2, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        double sum = 0;
        for (int i = 0; i < 10_000; i++)
        {
            store.TryGetState("web1", 2, out VmResourceState s);
            sum += s.CpuCores;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000.0, sum, 6);
    }
}
