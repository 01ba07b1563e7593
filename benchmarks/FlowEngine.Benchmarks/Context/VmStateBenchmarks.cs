// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Context;

namespace FlowEngine.Benchmarks.Context;

/// <summary>
/// The cost of attaching VM resource state to a flow: one lookup of a VM's state at a packet time, in the live store
/// (by name, and by an index kept per VM) and in a replayed timeline (an hour of 1 s samples per VM, binary search).
/// 64 lookups per operation over 16 VMs; none may allocate.
/// </summary>
[MemoryDiagnoser]
public class VmStateBenchmarks
{
    private const int Vms = 16, Lookups = 64;
    private const long Second = 1_000_000_000, Start = 1_765_000_000 * Second;

    private readonly string[] _names = new string[Vms];
    private readonly int[] _indexes = new int[Vms];
    private readonly long[] _times = new long[Lookups];
    private VmStateStore _store = null!;
    private VmStateTimeline _timeline = null!;

    [GlobalSetup]
    public void Setup()
    {
        _store = new VmStateStore();
        var csv = new StringWriter();
        using (var writer = new VmStateTimelineWriter(csv))
        {
            for (int v = 0; v < Vms; v++)
            {
                _names[v] = $"tenant-{v / 6}-vm{v}";
                for (int s = 0; s < 3600; s++)
                {
                    var sample = new VmResourceSample(Start + (s * Second), VmResourceFields.All, s * 400_000_000L, 1L << 30, s * 4096L, s * 65536L);
                    writer.Write(_names[v], in sample);
                    if (s >= 3598)
                    {
                        _store.Push(_names[v], in sample);
                    }
                }

                _indexes[v] = _store.IndexOf(_names[v]);
            }
        }

        _timeline = VmStateTimeline.Parse(new StringReader(csv.ToString()));
        var rng = new Random(5);
        for (int i = 0; i < Lookups; i++)
        {
            _times[i] = Start + (long)(rng.NextDouble() * 3600 * Second);
        }
    }

    /// <summary>The live store, by VM name.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public double StoreByName()
    {
        double sum = 0;
        for (int i = 0; i < Lookups; i++)
        {
            _store.TryGetState(_names[i % Vms], _times[i], out VmResourceState s);
            sum += s.CpuCores;
        }

        return sum;
    }

    /// <summary>The live store, by the VM's index.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public double StoreByIndex()
    {
        double sum = 0;
        for (int i = 0; i < Lookups; i++)
        {
            _store.TryGetState(_indexes[i % Vms], _times[i], out VmResourceState s);
            sum += s.CpuCores;
        }

        return sum;
    }

    /// <summary>A replayed timeline, by VM name and packet time.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public double TimelineAtPacketTime()
    {
        double sum = 0;
        for (int i = 0; i < Lookups; i++)
        {
            _timeline.TryGetState(_names[i % Vms], _times[i], out VmResourceState s);
            sum += s.CpuCores;
        }

        return sum;
    }
}
