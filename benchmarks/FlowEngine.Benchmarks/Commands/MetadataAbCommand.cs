// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Benchmarks.Flows;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Capture;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>metadata-ab</c>: the whole pipeline over a capture (default: the bundled lab capture, samples/data/lab-small.pcapng)
/// with flows only (side A) and with the application metadata extension (side B), side by side in one process. Each
/// pass replays the capture's frames from memory a number of times and flushes; passes alternate A, B, B, A, ... so the
/// machine's drift falls on both sides alike. Reports process CPU time per frame for each side, the ratio per pair and
/// of the medians, and the cost of metadata extraction in ns per frame (B minus A).
/// </summary>
public static class MetadataAbCommand
{
    private const string Help =
        "usage: metadata-ab [--capture FILE] [--replays K] [--reps R] [--warmup W] [--max-flows N]\n" +
        "  --capture FILE   capture file (default: samples/data/lab-small.pcapng above this build)\n" +
        "  --replays K      times the capture is replayed per pass (default 40)\n" +
        "  --reps R         timed passes per side (default 9)\n" +
        "  --warmup W       untimed passes per side first (default 2)\n" +
        "  --max-flows N    flow table size (default 16384)\n" +
        "  --side-b S       metadata: the AppMetadataExtension (default); hooks: an extension whose hooks do nothing but\n" +
        "                   stay subscribed (the cost of the seam itself)\n";

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>metadata-ab</c>.</param>
    /// <returns>Exit code: 0, or 1 when the two sides disagree on the packets in records.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        if (a.Flag("help"))
        {
            Console.Write(Help);
            return 0;
        }

        string path = a.String("capture", string.Empty);
        int replays = checked((int)a.Int("replays", 40));
        int reps = checked((int)a.Int("reps", 9));
        int warmup = checked((int)a.Int("warmup", 2));
        int maxFlows = checked((int)a.Int("max-flows", 16384));
        string sideB = a.String("side-b", "metadata");
        a.ThrowIfUnknown();
        if (sideB is not ("metadata" or "hooks"))
        {
            throw new ArgumentException($"Unknown --side-b '{sideB}': use metadata or hooks.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(replays, 1);
        if (path.Length == 0)
        {
            path = LabCapture.Path;
        }

        List<PacketBatch> batches = Load(path, out int frames);
        Console.WriteLine($"capture: {path}, {frames} frames, {replays} replays per pass");

        var options = new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = maxFlows } };
        var sinkA = new CountingSink();
        var sinkB = new CountingSink();
        var metadata = new AppMetadataTable();
        using var flows = new FlowPipeline(sinkA, options);
        using var withMetadata = new FlowPipeline<AppMetadataExtension>(sinkB, options, new AppMetadataExtension(metadata));
        using var withHooks = new FlowPipeline<SubscribedExtension>(sinkB, options, default);
        Func<double> passA = () => Pass(flows, batches, replays);
        Func<double> passB = sideB == "metadata" ? () => Pass(withMetadata, batches, replays) : () => Pass(withHooks, batches, replays);

        var nsA = new double[reps];
        var nsB = new double[reps];
        var pairs = new double[reps];
        long framesPerPass = (long)frames * replays;
        for (int pass = -warmup; pass < reps; pass++)
        {
            bool aFirst = (pass & 1) == 0;
            double first = aFirst ? passA() : passB();
            double second = aFirst ? passB() : passA();
            if (pass >= 0)
            {
                nsA[pass] = (aFirst ? first : second) * 1e9 / framesPerPass;
                nsB[pass] = (aFirst ? second : first) * 1e9 / framesPerPass;
                pairs[pass] = nsB[pass] / nsA[pass];
            }
        }

        AppMetadataStatistics m = metadata.Statistics;
        Console.WriteLine($"packets in records: A {sinkA.Packets}, B {sinkB.Packets}{(sinkA.Packets == sinkB.Packets ? string.Empty : "  DIFFERENT")}");
        Console.WriteLine($"metadata: {m.FlowsLabelled} flows labelled, {m.PacketsParsed} packets parsed, {m.BlocksExhausted} block pool exhaustions");
        Console.WriteLine($"A flows only, ns per frame:    {Measurements.Format(nsA)}");
        Console.WriteLine($"B with {sideB}, ns per frame: {Measurements.Format(nsB)}");
        Console.WriteLine($"B/A by pair: {Measurements.Format(pairs)}");
        double medA = Measurements.Median(nsA), medB = Measurements.Median(nsB);
        Console.WriteLine(
            $"1 thread, by process CPU time: A median {medA:F1} ns/frame, B median {medB:F1} ns/frame, B/A of medians {medB / medA:F3}, " +
            $"median of pair ratios {Measurements.Median(pairs):F3}, {sideB} {medB - medA:F1} ns per frame");
        return sinkA.Packets == sinkB.Packets ? 0 : 1;
    }

    private static double Pass<TExtension>(FlowPipeline<TExtension> pipeline, List<PacketBatch> batches, int replays)
        where TExtension : struct, IFlowExtension
    {
        TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
        for (int r = 0; r < replays; r++)
        {
            foreach (PacketBatch b in batches)
            {
                pipeline.ProcessBatch(b);
            }

            pipeline.Flush();
        }

        return (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds;
    }

    /// <summary>The capture's frames copied into batches in memory, so a pass reads no file.</summary>
    internal static List<PacketBatch> Load(string path, out int frames)
    {
        var batches = new List<PacketBatch>();
        frames = 0;
        using CaptureFileReader reader = CaptureFile.Open(path);
        var read = new PacketBatch(256);
        while (reader.ReadBatch(read))
        {
            var copy = new PacketBatch(256, 256 * 2048);
            for (int i = 0; i < read.Count; i++)
            {
                if (!copy.TryAppendCopy(read.GetFrame(i), read.GetWireLength(i), read.GetTimestampNs(i), read.GetLinkType(i)))
                {
                    throw new InvalidOperationException("copy arena too small");
                }
            }

            batches.Add(copy);
            frames += copy.Count;
        }

        return batches;
    }

    /// <summary>An extension that keeps one mask bit set for every flow's life and does nothing in its hooks.</summary>
    private readonly struct SubscribedExtension : IFlowExtension
    {
        public int MaskBits => 1;

        public bool WantsPackets => true;

        public bool WantsEmit => true;

        public void Initialize(in FlowExtensionContext context)
        {
        }

        public uint OnStart(int slot, in Packets.DecodedPacket firstPacket, ReadOnlySpan<byte> frame, bool firstFromOriginator) => 1;

        public uint OnPacket(int slot, uint mask, in Packets.DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator) => mask;

        public void OnEmit(int slot, int recordIndex, in FlowRecord record)
        {
        }

        public void OnDelivered(int count)
        {
        }
    }
}
