// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Runtime;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>decode-throughput</c>: single-threaded decode rate over an in-memory capture, timed with a Stopwatch;
/// the first version of the whole-pipeline harness (stages plug in through <see cref="IPacketStage"/>).
/// </summary>
public static class DecodeThroughputCommand
{
    private const string Help =
        "usage: decode-throughput [--stage decode|flows] [--max-flows N] [--packets M] [--reps R] [--warmup W] [options]\n" +
        "  --stage S        decode: decode only; flows: the shipped FlowPipeline.ProcessBatch (default decode)\n" +
        "  --max-flows N    flow table size for --stage flows (default: 1.25 x --flows)\n" +
        "  --compare C      with --stage flows, alternate passes of A and B in one process (B is always the shipped\n" +
        "                   FlowPipeline.ProcessBatch over frames in 2 MiB pages); A is, for C =\n" +
        "                     update: decode + per-packet FlowTable.Update (no batch stages, no prefetch)\n" +
        "                     pages:  FlowPipeline.ProcessBatch over a copy of the frames in ordinary 4 KiB pages\n" +
        "  --packets M      frames in the in-memory capture (default 1M)\n" +
        "  --reps R         timed passes over the capture; the median is reported (default 7)\n" +
        "  --warmup W       untimed passes first, so the JIT reaches tier 1 (default 3)\n" + CommandArgs.ProfileHelp;

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>decode-throughput</c>.</param>
    /// <returns>Exit code.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        if (a.Flag("help"))
        {
            Console.Write(Help);
            return 0;
        }

        int packets = checked((int)a.Int("packets", 1_000_000));
        int reps = checked((int)a.Int("reps", 7));
        int warmup = checked((int)a.Int("warmup", 3));
        string stageName = a.String("stage", "decode");
        TrafficProfile profile = a.Profile(100_000);
        int maxFlows = checked((int)a.Int("max-flows", profile.Flows + (profile.Flows / 4)));
        string compareWith = a.String("compare", string.Empty);
        a.ThrowIfUnknown();
        if (compareWith is not ("" or "update" or "pages"))
        {
            throw new ArgumentException($"Unknown --compare '{compareWith}': use update or pages.");
        }

        if (stageName is not ("decode" or "flows"))
        {
            throw new ArgumentException($"Unknown --stage '{stageName}': use decode or flows.");
        }

        if (stageName == "flows")
        {
            return RunFlows(profile, packets, reps, warmup, maxFlows, compareWith);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);

        var sw = Stopwatch.StartNew();
        SyntheticCapture capture = SyntheticTraffic.Generate(profile, packets);
        long wireBytes = capture.TotalWireBytes;
        Console.WriteLine(
            $"capture: {capture.Count} frames, {capture.Data.Length / 1e6:F1} MB, mean {wireBytes / (double)Math.Max(1, capture.Count):F1} B/frame, " +
            $"{capture.DistinctFlows} of {profile.Flows} flows seen, {profile.Encapsulation}, seed {profile.Seed}, generated in {sw.Elapsed.TotalSeconds:F2} s");
        Console.WriteLine(
            $"runtime: {Environment.Version}, GC server={GCSettings.IsServerGC} latency={GCSettings.LatencyMode}, " +
            $"{Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");

        var decoder = new PacketDecoder();
        ulong reference = 0;
        long rejected = 0;
        for (int i = 0; i < warmup; i++)
        {
            var stage = default(ChecksumStage);
            rejected = PacketPipeline.Run(capture, decoder, ref stage);
            reference = stage.Checksum;
        }

        var mpps = new double[reps];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < reps; r++)
        {
            var stage = default(ChecksumStage);
            long start = Stopwatch.GetTimestamp();
            rejected = PacketPipeline.Run(capture, decoder, ref stage);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            mpps[r] = capture.Count / seconds / 1e6;
            if (warmup > 0 && stage.Checksum != reference)
            {
                throw new InvalidOperationException("Decode results differ between passes.");
            }
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        double median = Measurements.Median(mpps);
        Console.WriteLine($"passes (Mpps): {Measurements.Format(mpps)}");
        Console.WriteLine(
            $"decode-only, 1 thread: median {median:F2} Mpps ({1000 / median:F1} ns/packet, {median * 1e6 * wireBytes / capture.Count * 8 / 1e9:F2} Gbit/s of wire bytes), " +
            $"min {mpps.Min():F2}, max {mpps.Max():F2}, rejected {rejected}, allocated {allocated} B in {reps} passes");
        return rejected == 0 ? 0 : 1;
    }

    private static int RunFlows(TrafficProfile profile, int packets, int reps, int warmup, int maxFlows, string compareWith)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        var sw = Stopwatch.StartNew();
        SyntheticCapture capture = SyntheticTraffic.Generate(profile, packets);
        Console.WriteLine(
            $"capture: {capture.Count} frames, {capture.Data.Length / 1e6:F1} MB, {capture.DistinctFlows} of {profile.Flows} flows seen, " +
            $"{profile.Encapsulation}, seed {profile.Seed}, generated in {sw.Elapsed.TotalSeconds:F2} s");
        bool compare = compareWith.Length != 0;
        SyntheticCapture baselineCapture = compareWith == "pages" ? capture.WithOrdinaryPages() : capture;
        var decoder = new PacketDecoder();
        var sink = new CountingSink();
        var options = new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = maxFlows } };
        var batch = new PacketBatch(options.BatchSize);
        var mpps = new double[reps];
        var baseline = new double[reps];
        var cpuMpps = new double[reps];
        var cpuBaseline = new double[reps];
        long allocated = 0;
        int peakFlows = 0;
        double bytesPerFlow = 0;
        bool hugePages = false;
        for (int pass = -warmup * (compare ? 2 : 1); pass < reps * (compare ? 2 : 1); pass++)
        {
            bool sideA = compare && (pass & 1) == 0;
            int r = compare ? (pass >= 0 ? pass / 2 : -1) : pass;

            // A fresh table per pass, so every pass sees the same flow creations.
            using var pipeline = new FlowPipeline(sink, options);
            FlowTable<NoFlowExtension> table = pipeline.Table;
            bytesPerFlow = table.BytesPerFlow;
            sink.Reset();
            long unaccounted;
            long before = GC.GetAllocatedBytesForCurrentThread();
            TimeSpan cpuStart = Environment.CpuUsage.TotalTime;
            long start = Stopwatch.GetTimestamp();
            if (sideA && compareWith == "update")
            {
                var stage = new PerPacketFlowStage(table);
                unaccounted = PacketPipeline.Run(capture, decoder, ref stage);
                stage.Complete();
                unaccounted += stage.Unaccounted;
            }
            else
            {
                PacketPipeline.Run(sideA ? baselineCapture : capture, pipeline, batch);
                PipelineStatistics stats = pipeline.Statistics;
                unaccounted = stats.PacketsRead - stats.PacketsDecoded;
                if (stats.PacketsRead != capture.Count)
                {
                    throw new InvalidOperationException($"pipeline read {stats.PacketsRead} of {capture.Count} frames");
                }
            }

            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            double cpuSeconds = (Environment.CpuUsage.TotalTime - cpuStart).TotalSeconds;
            long after = GC.GetAllocatedBytesForCurrentThread();
            peakFlows = Math.Max(peakFlows, table.Count);
            hugePages = table.UsesHugePages;
            pipeline.Flush();
            if (unaccounted != 0 || sink.Packets != (ulong)capture.Count)
            {
                throw new InvalidOperationException($"pass lost packets: {unaccounted} not accounted, {sink.Packets} of {capture.Count} in records");
            }

            if (r >= 0)
            {
                (sideA ? baseline : mpps)[r] = capture.Count / seconds / 1e6;
                (sideA ? cpuBaseline : cpuMpps)[r] = capture.Count / cpuSeconds / 1e6;
                allocated += after - before;
            }
        }

        double median = Measurements.Median(mpps);
        double cpuMedian = Measurements.Median(cpuMpps);
        Console.WriteLine($"passes (Mpps): {Measurements.Format(mpps)}");
        if (compare)
        {
            double medianA = Measurements.Median(baseline);
            string nameA = compareWith == "update" ? "decode + per-packet FlowTable.Update" : "ProcessBatch, frames in 4 KiB pages";
            Console.WriteLine($"A {nameA} (Mpps): {Measurements.Format(baseline)}");
            Console.WriteLine($"A {nameA} median {medianA:F2} Mpps, B FlowPipeline.ProcessBatch median {median:F2} Mpps, B/A = {median / medianA:F2}");
            double cpuMedianA = Measurements.Median(cpuBaseline);
            Console.WriteLine($"by process CPU time: A median {cpuMedianA:F2} Mpps, B median {cpuMedian:F2} Mpps, B/A = {cpuMedian / cpuMedianA:F2}");
        }

        // On a shared machine, wall time includes time the thread waited for a core; CPU time does not.
        Console.WriteLine($"by process CPU time: median {cpuMedian:F2} Mpps ({1000 / cpuMedian:F1} ns/packet), passes {Measurements.Format(cpuMpps)}");

        Console.WriteLine(
            $"FlowPipeline.ProcessBatch (decode + UpdateBatch + Advance), 1 thread: median {median:F2} Mpps ({1000 / median:F1} ns/packet), " +
            $"min {mpps.Min():F2}, max {mpps.Max():F2}; {peakFlows} concurrent flows at the end of a pass, table {bytesPerFlow:F0} B per flow " +
            $"of capacity (max flows {maxFlows}), huge pages {hugePages}, allocated {allocated} B in {reps} timed passes (outside table construction)");
        return 0;
    }
}
