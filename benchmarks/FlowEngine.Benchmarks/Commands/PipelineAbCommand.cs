// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>pipeline-ab</c>: the whole pipeline of two builds of FlowEngine side by side in one process. Each build is
/// loaded into an <see cref="AssemblyLoadContext"/> of its own together with a copy of this harness, so both sides
/// run the same harness code over the same frames, each bound to its own FlowEngine.dll and compiled by the JIT on
/// its own; passes alternate, so the machine's drift (other tenants, frequency) falls on both
/// sides alike. This is how a change to the library's layout or code is measured on a noisy machine, where two
/// processes a minute apart differ by more than the change.
/// </summary>
public static class PipelineAbCommand
{
    private const string Help =
        "usage: pipeline-ab --baseline DIR [--stage flows|decode] [--max-flows N] [--packets M] [--reps R] [--warmup W] [options]\n" +
        "  --baseline DIR   a directory holding a build's FlowEngine.dll (side A); with its own FlowEngine.Benchmarks.dll\n" +
        "                   beside it (a benchmarks build), that side runs its own harness (builds with different APIs)\n" +
        "  --candidate DIR  the same for side B (default: this build's)\n" +
        "  --stage S        flows: FlowPipeline.ProcessBatch (default); decode: PacketDecoder alone\n" +
        "  --max-flows N    flow table size (default: 1.25 x --flows)\n" +
        "  --packets M      frames in the in-memory capture (default 2M)\n" +
        "  --reps R         timed passes per side, alternating A, B, A, B, ... (default 7)\n" +
        "  --warmup W       untimed passes per side first (default 2)\n" + CommandArgs.ProfileHelp;

    private delegate double[] PassMethod(byte[] data, int[] offsets, int[] lengths, int[] wireLengths, long[] timestampsNs, int count, int maxFlows, bool decodeOnly);

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>pipeline-ab</c>.</param>
    /// <returns>Exit code.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        if (a.Flag("help"))
        {
            Console.Write(Help);
            return 0;
        }

        string baseline = a.String("baseline", string.Empty);
        int packets = checked((int)a.Int("packets", 2_000_000));
        int reps = checked((int)a.Int("reps", 7));
        int warmup = checked((int)a.Int("warmup", 2));
        string stage = a.String("stage", "flows");
        TrafficProfile profile = a.Profile(100_000);
        int maxFlows = checked((int)a.Int("max-flows", profile.Flows + (profile.Flows / 4)));
        string candidate = a.String("candidate", Path.GetDirectoryName(typeof(FlowPipeline).Assembly.Location)!);
        a.ThrowIfUnknown();
        if (stage is not ("flows" or "decode"))
        {
            throw new ArgumentException($"Unknown --stage '{stage}': use flows or decode.");
        }

        foreach ((string name, string dir) in new[] { ("--baseline", baseline), ("--candidate", candidate) })
        {
            if (!File.Exists(Path.Combine(dir, "FlowEngine.dll")))
            {
                throw new ArgumentException($"{name}: no FlowEngine.dll in '{dir}'");
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        var sw = Stopwatch.StartNew();
        SyntheticCapture capture = SyntheticTraffic.Generate(profile, packets);
        Console.WriteLine(
            $"capture: {capture.Count} frames, {capture.Data.Length / 1e6:F1} MB, {capture.DistinctFlows} of {profile.Flows} flows seen, " +
            $"{profile.Encapsulation}, seed {profile.Seed}, generated in {sw.Elapsed.TotalSeconds:F2} s");

        PassMethod sideA = LoadSide("A", baseline);
        PassMethod sideB = LoadSide("B", candidate);

        bool decodeOnly = stage == "decode";
        var cpuA = new double[reps];
        var cpuB = new double[reps];
        var pairs = new double[reps];
        double checkA = double.NaN, checkB = double.NaN;
        for (int pass = -warmup; pass < reps; pass++)
        {
            // A then B in even pairs, B then A in odd ones: neither side always runs right after the capture is hot.
            bool aFirst = (pass & 1) == 0;
            double[] first = (aFirst ? sideA : sideB)(capture.Data, capture.Offsets, capture.Lengths, capture.WireLengths, capture.TimestampsNs, capture.Count, maxFlows, decodeOnly);
            double[] second = (aFirst ? sideB : sideA)(capture.Data, capture.Offsets, capture.Lengths, capture.WireLengths, capture.TimestampsNs, capture.Count, maxFlows, decodeOnly);
            double[] resultA = aFirst ? first : second, resultB = aFirst ? second : first;
            checkA = resultA[2];
            checkB = resultB[2];
            if (pass >= 0)
            {
                cpuA[pass] = capture.Count / resultA[1] / 1e6;
                cpuB[pass] = capture.Count / resultB[1] / 1e6;
                pairs[pass] = cpuB[pass] / cpuA[pass];
            }
        }

        string what = decodeOnly ? "decode-only checksum" : "packets in records";
        Console.WriteLine($"{what}: A {checkA}, B {checkB}{(checkA == checkB ? string.Empty : "  DIFFERENT")}");
        Console.WriteLine($"A Mpps per CPU-second: {Measurements.Format(cpuA)}");
        Console.WriteLine($"B Mpps per CPU-second: {Measurements.Format(cpuB)}");
        Console.WriteLine($"B/A by pair: {Measurements.Format(pairs)}");
        Console.WriteLine(
            $"{stage}, 1 thread, by process CPU time: A median {Measurements.Median(cpuA):F2} Mpps, B median {Measurements.Median(cpuB):F2} Mpps, " +
            $"B/A of medians {Measurements.Median(cpuB) / Measurements.Median(cpuA):F3}, median of pair ratios {Measurements.Median(pairs):F3}");
        return checkA == checkB || decodeOnly ? 0 : 1;
    }

    /// <summary>
    /// One timed pass over the frames with the FlowEngine this assembly is bound to (called on both sides, through a
    /// delegate whose signature holds only runtime types, so it crosses load contexts).
    /// </summary>
    /// <returns>Wall seconds, process CPU seconds, and a check value: packets in flow records, or the decode checksum.</returns>
    public static double[] TimedPass(byte[] data, int[] offsets, int[] lengths, int[] wireLengths, long[] timestampsNs, int count, int maxFlows, bool decodeOnly)
    {
        var capture = new SyntheticCapture(data, offsets, lengths, wireLengths, timestampsNs, count, 0);
        if (decodeOnly)
        {
            var decoder = new PacketDecoder();
            var stage = default(ChecksumStage);
            TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
            long t0 = Stopwatch.GetTimestamp();
            PacketPipeline.Run(capture, decoder, ref stage);
            return [Stopwatch.GetElapsedTime(t0).TotalSeconds, (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds, stage.Checksum];
        }

        var sink = new CountingSink();
        var options = new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = maxFlows } };
        var batch = new PacketBatch(options.BatchSize);
        using var pipeline = new FlowPipeline(sink, options);
        TimeSpan cpuStart = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp();
        PacketPipeline.Run(capture, pipeline, batch);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double cpuSeconds = (Environment.CpuUsage.TotalTime - cpuStart).TotalSeconds;
        pipeline.Flush();
        return [seconds, cpuSeconds, sink.Packets];
    }

    // Each side in a load context of its own, this harness included, so neither side is the one the process started
    // with (the default context's copy of the harness already ran the capture generator and is compiled differently).
    // A build directory that holds its own FlowEngine.Benchmarks.dll (a whole benchmarks build) runs its own copy of the
    // harness, so two builds whose public API differs can still be compared; otherwise this harness binds to it.
    private static PassMethod LoadSide(string name, string directory)
    {
        string ownHarness = Path.Combine(Path.GetFullPath(directory), "FlowEngine.Benchmarks.dll");
        string harnessPath = File.Exists(ownHarness) ? ownHarness : typeof(PipelineAbCommand).Assembly.Location;
        var context = new SideContext(name, Path.GetFullPath(directory), harnessPath);
        Assembly harness = context.LoadFromAssemblyPath(harnessPath);
        Console.WriteLine($"{name}: harness {harnessPath}");
        string bound = context.LoadFromAssemblyName(new AssemblyName("FlowEngine")).Location;
        Console.WriteLine($"{name}: {bound} (written {FileVersion(bound)})");
        return harness.GetType(typeof(PipelineAbCommand).FullName!, throwOnError: true)!
            .GetMethod(nameof(TimedPass), BindingFlags.Public | BindingFlags.Static)!
            .CreateDelegate<PassMethod>();
    }

    private static string FileVersion(string path) => File.GetLastWriteTimeUtc(path).ToString("u", System.Globalization.CultureInfo.InvariantCulture);

    // FlowEngine from a build's directory, this harness again (so it binds to that FlowEngine), everything else (the
    // runtime, other packages) shared with the default context.
    private sealed class SideContext(string name, string directory, string harnessPath) : AssemblyLoadContext(name)
    {
        protected override Assembly? Load(AssemblyName assemblyName) => assemblyName.Name switch
        {
            "FlowEngine" => LoadFromAssemblyPath(Path.Combine(directory, "FlowEngine.dll")),
            "FlowEngine.Benchmarks" => LoadFromAssemblyPath(harnessPath),
            _ => null,
        };
    }
}
