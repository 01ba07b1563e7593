// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Interop.Threading;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>file-throughput</c>: the public <see cref="FlowPipeline"/> over <see cref="CaptureFile.Open"/>, as an
/// application reads a capture, on 1 or more workers each pinned to its own CPU. The issue 5 peer harness
/// (benchmarks/peers) runs it beside tshark, softflowd, nfpcapd, argus, pmacctd and a SharpPcap baseline.
/// </summary>
/// <remarks>
/// With N workers the capture is first split, untimed, into N files by a symmetric hash of the inner flow
/// (VNI, protocol, addresses, ports: both directions of a flow land in the same file), the way a NIC with
/// symmetric RSS over the inner headers hands each queue its flows; then each worker reads its own file on its
/// own core. The timed section is opening the files, reading, decoding, accounting and the final flush.
/// </remarks>
public static class FileThroughputCommand
{
    private const string Help =
        "usage: file-throughput CAPTURE [--workers N] [--reps R] [--warmup W] [--max-flows N] [--access A] [--distinct] [--json]\n" +
        "  --workers N      workers, each on its own thread pinned to CPU i (default 1); N > 1 splits the capture first\n" +
        "  --reps R         timed passes; medians are reported (default 1)\n" +
        "  --warmup W       untimed passes first (default 0)\n" +
        "  --max-flows N    flow table size per worker (default 262144)\n" +
        "  --access A       mapped (default: CaptureFileAccess.MemoryMapped) or buffered (CaptureFileAccess.Buffered)\n" +
        "  --distinct       also count distinct bidirectional flows (with and without the VNI), untimed pass\n" +
        "  --split-dir D    where the per-worker files go (default: the temp directory); removed at the end\n" +
        "  --json           print one JSON object as the last line\n";

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>file-throughput</c>.</param>
    /// <returns>Exit code.</returns>
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Write(Help);
            return args.Length > 0 && args[0] == "--help" ? 0 : 2;
        }

        string path = args[0];
        var a = new CommandArgs(args[1..]);
        int workers = checked((int)a.Int("workers", 1));
        int reps = checked((int)a.Int("reps", 1));
        int warmup = checked((int)a.Int("warmup", 0));
        int maxFlows = checked((int)a.Int("max-flows", 262_144));
        bool distinct = a.Flag("distinct");
        string accessName = a.String("access", "mapped");
        var fileOptions = new CaptureFileOptions
        {
            Access = accessName switch
            {
                "mapped" => CaptureFileAccess.MemoryMapped,
                "buffered" => CaptureFileAccess.Buffered,
                _ => throw new ArgumentException($"Unknown --access '{accessName}': use mapped or buffered."),
            },
        };
        bool json = a.Flag("json");
        string splitDir = a.String("split-dir", Path.GetTempPath());
        a.ThrowIfUnknown();
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workers, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);

        var processStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        string[] files = [path];
        string? tempDir = null;
        try
        {
            double splitSeconds = 0;
            if (workers > 1)
            {
                tempDir = Path.Combine(splitDir, $"fe-split-{Environment.ProcessId}-{Environment.TickCount64}");
                Directory.CreateDirectory(tempDir);

                var sw = Stopwatch.StartNew();
                files = Split(path, workers, tempDir, out long[] perWorker);
                splitSeconds = sw.Elapsed.TotalSeconds;
                Console.WriteLine($"split {path} by symmetric inner-flow hash into {workers} files ({string.Join(" + ", perWorker)} packets) in {splitSeconds:F2} s (untimed)");
            }

            var options = new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = maxFlows } };
            var wall = new List<double>();
            var cpu = new List<double>();
            PassResult last = default;
            DateTime firstTimedUtc = default;
            for (int pass = -warmup; pass < reps; pass++)
            {
                last = RunPass(files, options, fileOptions, countDistinct: false);
                if (pass >= 0)
                {
                    firstTimedUtc = pass == 0 ? last.StartUtc : firstTimedUtc;
                    wall.Add(last.WallSeconds);
                    cpu.Add(last.CpuSeconds);
                }
            }

            long distinctFlows = -1;
            long distinctWithoutVn = -1;
            if (distinct)
            {
                PassResult d = RunPass(files, options, fileOptions, countDistinct: true);
                distinctFlows = d.Distinct;
                distinctWithoutVn = d.DistinctWithoutVn;
            }

            double medianWall = Measurements.Median(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(wall));
            double medianCpu = Measurements.Median(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(cpu));
            long packets = last.Packets;
            double mpps = packets / medianWall / 1e6;
            string passes = string.Join(' ', wall.Select(w => (packets / w / 1e6).ToString("F2", CultureInfo.InvariantCulture)));
            Console.WriteLine(
                $"file-throughput {path} ({accessName}): {workers} worker(s), {packets} packets ({last.Rejected} rejected), {last.Records} flow records " +
                $"({last.FlowsCreated} created){(distinct ? $", {distinctFlows} distinct flows ({distinctWithoutVn} without the VNI)" : string.Empty)}; " +
                $"median {mpps:F2} Mpps wall, {packets / medianCpu / 1e6:F2} Mpps per CPU-second; passes (Mpps) {passes}; table {last.BytesPerFlow:F0} B per flow of capacity");
            if (last.PacketsInRecords != last.Packets - last.Rejected - last.Unaccounted)
            {
                Console.Error.WriteLine($"records hold {last.PacketsInRecords} packets, expected {last.Packets - last.Rejected - last.Unaccounted}");
                return 1;
            }

            if (json)
            {
                using var stream = Console.OpenStandardOutput();
                using (var w = new Utf8JsonWriter(stream))
                {
                    w.WriteStartObject();
                    w.WriteString("tool", "flowengine");
                    w.WriteString("capture", path);
                    w.WriteNumber("workers", workers);
                    w.WriteString("access", accessName);

                    // The runtime reads DOTNET_TieredCompilation at start; 0 compiles every method once, fully optimised.
                    w.WriteBoolean("tiered_compilation", Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0");
                    w.WriteNumber("packets", packets);
                    w.WriteNumber("rejected", last.Rejected);
                    w.WriteNumber("records", last.Records);
                    w.WriteNumber("flows_created", last.FlowsCreated);
                    w.WriteNumber("distinct_flows", distinctFlows);
                    w.WriteNumber("distinct_flows_without_vn", distinctWithoutVn);
                    w.WriteNumber("reps", reps);
                    w.WriteNumber("median_wall_s", medianWall);
                    w.WriteNumber("median_cpu_s", medianCpu);
                    w.WriteNumber("median_mpps", mpps);
                    w.WriteNumber("pps_per_cpu_second", packets / medianCpu);
                    w.WriteStartArray("wall_s");
                    wall.ForEach(w.WriteNumberValue);
                    w.WriteEndArray();
                    w.WriteNumber("split_s", splitSeconds);
                    w.WriteNumber("table_bytes_per_flow", last.BytesPerFlow);
                    w.WriteNumber("process_seconds_before_first_timed_pass", (firstTimedUtc - processStart).TotalSeconds);
                    w.WriteEndObject();
                }

                stream.WriteByte((byte)'\n');
            }

            return 0;
        }
        finally
        {
            if (tempDir is not null)
            {
                Directory.Delete(tempDir, recursive: true);
            }
        }
    }

    private static PassResult RunPass(string[] files, FlowPipelineOptions options, CaptureFileOptions fileOptions, bool countDistinct)
    {
        int n = files.Length;
        var sinks = new Sink[n];
        var pipelines = new FlowPipeline[n];
        var stats = new PipelineStatistics[n];
        var ends = new long[n];
        var errors = new Exception?[n];
        for (int i = 0; i < n; i++)
        {
            sinks[i] = new Sink(countDistinct);
            pipelines[i] = new FlowPipeline(sinks[i], options);
        }

        using var ready = new Barrier(n + 1);
        var threads = new Thread[n];
        int cpus = Environment.ProcessorCount;
        for (int i = 0; i < n; i++)
        {
            int worker = i;
            threads[i] = new Thread(() =>
            {
                try
                {
                    CpuAffinity.PinCurrentThread(worker % cpus);
                    ready.SignalAndWait();
                    using CaptureFileReader capture = CaptureFile.Open(files[worker], fileOptions);
                    stats[worker] = pipelines[worker].Run(capture);
                }
                catch (Exception e)
                {
                    errors[worker] = e;
                }
                finally
                {
                    ends[worker] = Stopwatch.GetTimestamp();
                }
            })
            { Name = $"flow worker {i}", IsBackground = true };
            threads[i].Start();
        }

        ready.SignalAndWait();
        DateTime startUtc = DateTime.UtcNow;
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        foreach (Thread t in threads)
        {
            t.Join();
        }

        TimeSpan cpuAfter = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (Exception? e in errors)
        {
            if (e is not null)
            {
                throw new InvalidOperationException("A worker failed.", e);
            }
        }

        var r = new PassResult
        {
            WallSeconds = Stopwatch.GetElapsedTime(start, ends.Max()).TotalSeconds,
            CpuSeconds = (cpuAfter - cpuBefore).TotalSeconds,
            BytesPerFlow = pipelines[0].Table.BytesPerFlow,
            StartUtc = startUtc,
        };
        HashSet<FlowKey>? all = countDistinct ? [] : null;
        HashSet<FlowKey>? allWithoutVn = countDistinct ? [] : null;
        for (int i = 0; i < n; i++)
        {
            PipelineStatistics s = stats[i];
            r.Packets += s.PacketsRead;
            r.Rejected += s.PacketsRejected;
            r.Unaccounted += s.PacketsRead - s.PacketsRejected - s.PacketsDecoded;
            r.FlowsCreated += s.Flows.FlowsCreated;
            r.Records += sinks[i].Records;
            r.PacketsInRecords += sinks[i].Packets;
            all?.UnionWith(sinks[i].Keys!);
            allWithoutVn?.UnionWith(sinks[i].KeysWithoutVn!);
            pipelines[i].Dispose();
        }

        r.Distinct = all?.Count ?? -1;
        r.DistinctWithoutVn = allWithoutVn?.Count ?? -1;
        return r;
    }

    // Writes packet i of the capture to file (symmetric hash of its inner flow) mod workers. Undecodable packets go to file 0.
    private static string[] Split(string path, int workers, string dir, out long[] counts)
    {
        var files = new string[workers];
        var writers = new PcapWriter[workers];
        counts = new long[workers];
        var decoder = new PacketDecoder();
        var batch = new PacketBatch();
        var packet = default(DecodedPacket);
        try
        {
            using CaptureFileReader capture = CaptureFile.Open(path);
            while (capture.ReadBatch(batch))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    LinkType link = batch.GetLinkType(i);
                    if (link != LinkType.Ethernet)
                    {
                        throw new NotSupportedException($"--workers > 1 splits Ethernet captures only; packet {counts.Sum()} is {link}.");
                    }

                    if (writers[0] is null)
                    {
                        for (int w = 0; w < workers; w++)
                        {
                            files[w] = Path.Combine(dir, $"part{w}.pcap");
                            writers[w] = PcapWriter.Create(files[w]);
                        }
                    }

                    ReadOnlySpan<byte> frame = batch.GetFrame(i);
                    int target = decoder.Decode(frame, link, ref packet) ? (int)(SymmetricHash(in packet) % (ulong)workers) : 0;
                    writers[target].Write(frame, batch.GetTimestampNs(i), batch.GetWireLength(i));
                    counts[target]++;
                }
            }
        }
        finally
        {
            foreach (PcapWriter w in writers)
            {
                w?.Dispose();
            }
        }

        if (writers[0] is null)
        {
            throw new InvalidOperationException($"{path} holds no packets.");
        }

        return files;
    }

    // XOR of the two endpoints' hashes, so both directions of a flow give the same value (symmetric RSS).
    private static ulong SymmetricHash(in DecodedPacket p)
    {
        Span<byte> a = stackalloc byte[16];
        p.Source.WriteBytes(a);
        ulong source = SplitMix64.Mix(BinaryPrimitives.ReadUInt64LittleEndian(a) ^ SplitMix64.Mix(BinaryPrimitives.ReadUInt64LittleEndian(a[8..]) ^ p.SourcePort));
        p.Destination.WriteBytes(a);
        ulong destination = SplitMix64.Mix(BinaryPrimitives.ReadUInt64LittleEndian(a) ^ SplitMix64.Mix(BinaryPrimitives.ReadUInt64LittleEndian(a[8..]) ^ p.DestinationPort));
        return SplitMix64.Mix(source ^ destination ^ ((ulong)p.VnId << 8) ^ p.Protocol);
    }

    private struct PassResult
    {
        public double WallSeconds;
        public double CpuSeconds;
        public double BytesPerFlow;
        public DateTime StartUtc;
        public long Packets;
        public long Rejected;
        public long Unaccounted;
        public long FlowsCreated;
        public long Records;
        public long PacketsInRecords;
        public long Distinct;
        public long DistinctWithoutVn;
    }

    // Bidirectional flow key: the lower endpoint first, so both directions give one key.
    private readonly record struct FlowKey(uint Vn, byte Protocol, IpAddress LowAddress, ushort LowPort, IpAddress HighAddress, ushort HighPort)
    {
        public static FlowKey From(in FlowRecord r, bool withVn)
        {
            uint vn = withVn ? ((uint)r.VnKind << 24) ^ r.VnId : 0;
            ushort sp = r.Protocol is 6 or 17 ? r.SourcePort : r.IcmpId;
            ushort dp = r.Protocol is 6 or 17 ? r.DestinationPort : (ushort)0;
            int c = r.SourceAddress.CompareTo(r.DestinationAddress);
            return c < 0 || (c == 0 && sp <= dp)
                ? new FlowKey(vn, r.Protocol, r.SourceAddress, sp, r.DestinationAddress, dp)
                : new FlowKey(vn, r.Protocol, r.DestinationAddress, dp, r.SourceAddress, sp);
        }
    }

    private sealed class Sink(bool countDistinct) : IFlowSink
    {
        public long Records { get; private set; }

        public long Packets { get; private set; }

        public HashSet<FlowKey>? Keys { get; } = countDistinct ? [] : null;

        public HashSet<FlowKey>? KeysWithoutVn { get; } = countDistinct ? [] : null;

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            foreach (ref readonly FlowRecord record in records)
            {
                Records++;
                Packets += record.ForwardPackets + record.ReversePackets;
                if (Keys is not null)
                {
                    Keys.Add(FlowKey.From(in record, withVn: true));
                    KeysWithoutVn!.Add(FlowKey.From(in record, withVn: false));
                }
            }
        }

        public void Flush()
        {
        }

        public void Complete()
        {
        }
    }
}
