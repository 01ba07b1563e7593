// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Runtime.InteropServices;
using FlowEngine.Flows.Internal;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>memory-probe</c>: how many random 64-byte lines one core reads per second from a table of a given size in
/// 2 MiB pages, with independent loads (so the core overlaps as many misses as it can, as the flow table's batch
/// stages try to). A flow table lookup that misses the caches costs several such lines, so this bounds the
/// packet rate of any flow table on the machine: rate &lt;= lines per second / lines per packet.
/// </summary>
public static class MemoryProbeCommand
{
    private const string Help =
        "usage: memory-probe [--mb 4,16,32,256] [--loads N] [--reps R]\n" +
        "  --mb LIST   table sizes in MiB (default 4,16,32,256)\n" +
        "  --loads N   random loads per pass (default 20M)\n" +
        "  --reps R    passes per size; the median is reported (default 5)\n";

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>memory-probe</c>.</param>
    /// <returns>Exit code.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        if (a.Flag("help"))
        {
            Console.Write(Help);
            return 0;
        }

        int[] sizes = [.. a.String("mb", "4,16,32,256").Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))];
        int loads = checked((int)a.Int("loads", 20_000_000));
        int reps = checked((int)a.Int("reps", 5));
        a.ThrowIfUnknown();
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(loads, 1);
        foreach (int mb in sizes)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(mb, 1);
            Probe(mb, loads, reps);
        }

        return 0;
    }

    private static unsafe void Probe(int mb, int loads, int reps)
    {
        nuint bytes = (nuint)mb << 20;
        nuint lines = bytes / 64;
        byte* table = (byte*)NativeMemory.AlignedAlloc(bytes, 2 << 20);
        uint[] index = GC.AllocateUninitializedArray<uint>(loads, pinned: true);
        try
        {
            bool huge = NativeRegion.AdviseHugePages(table, bytes);
            NativeMemory.Fill(table, bytes, 1);
            var rng = new Synthetic.SplitMix64(42);
            for (int i = 0; i < index.Length; i++)
            {
                index[i] = (uint)(rng.NextUInt64() % lines);
            }

            var ns = new double[reps];
            ulong sum = 0;
            for (int r = -1; r < reps; r++)
            {
                long start = Stopwatch.GetTimestamp();
                sum += SumLines(table, index);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (r >= 0)
                {
                    ns[r] = seconds * 1e9 / loads;
                }
            }

            double median = Measurements.Median(ns);
            Console.WriteLine(
                $"{mb,5} MiB table, huge pages {huge}: {median:F1} ns per random line (median of {reps}; min {ns.Min():F1}, max {ns.Max():F1}) = " +
                $"{1e3 / median:F0} M lines/s per core; a packet that costs L such lines is bound to {1e3 / median:F0}/L Mpps (read {sum} bytes)");
        }
        finally
        {
            NativeMemory.AlignedFree(table);
        }
    }

    // Independent loads: no load's address depends on another, so misses overlap as far as the core allows.
    private static unsafe ulong SumLines(byte* table, uint[] index)
    {
        ulong sum = 0;
        foreach (uint line in index)
        {
            sum += table[(nuint)line * 64];
        }

        return sum;
    }
}
