// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Diagnostics;
using FlowEngine.AppLayer;
using FlowEngine.Benchmarks.Export;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Export;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>flows-output</c>: the sensor's <c>flows</c> pipeline (capture file read, decode, flow tables, application metadata,
/// learned VM identity) over one capture, with three sinks side by side in one process: none (records counted), the
/// sensor's writer before (System.Text.Json's Utf8JsonWriter, <see cref="LegacyFlowJsonWriter"/>) and
/// <see cref="FlowRecordJsonWriter"/> drained to a file as samples/Sensor/FlowJsonWriter.cs does. Passes rotate the
/// order; prints wall-clock and process CPU medians per side and the JSON writing's share (side minus none).
/// </summary>
public static class FlowsOutputCommand
{
    private const string Help =
        "usage: flows-output --capture FILE [--out FILE] [--reps R] [--warmup W] [--max-flows N]\n" +
        "  --capture FILE   capture file (e.g. from `generate --packets 4M --flows 1M --zipf 0.4`)\n" +
        "  --out FILE       where the JSON goes (default /dev/null)\n" +
        "  --reps R         timed passes per side (default 5)\n" +
        "  --warmup W       untimed passes per side first (default 1)\n" +
        "  --max-flows N    flow table size (default 1048576, as the sensor)\n";

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>flows-output</c>.</param>
    /// <returns>Exit code: 0, or 1 when the sides disagree on the records or the two writers on the bytes.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        if (a.Flag("help"))
        {
            Console.Write(Help);
            return 0;
        }

        string capture = a.String("capture", string.Empty);
        string output = a.String("out", "/dev/null");
        int reps = checked((int)a.Int("reps", 5));
        int warmup = checked((int)a.Int("warmup", 1));
        int maxFlows = checked((int)a.Int("max-flows", 1 << 20));
        a.ThrowIfUnknown();
        if (capture.Length == 0)
        {
            Console.Error.Write(Help);
            return 2;
        }

        string[] sides = ["none", "utf8jsonwriter", "span"];
        var seconds = sides.Select(_ => new double[reps]).ToArray();
        var cpu = sides.Select(_ => new double[reps]).ToArray();
        var records = new long[sides.Length];
        for (int pass = -warmup; pass < reps; pass++)
        {
            for (int k = 0; k < sides.Length; k++)
            {
                int side = (k + Math.Max(pass, 0)) % sides.Length;
                TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
                double s = Pass(capture, output, side, maxFlows, out records[side]);
                if (pass >= 0)
                {
                    seconds[side][pass] = s;
                    cpu[side][pass] = (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds;
                }
            }
        }

        Console.WriteLine($"capture: {capture}, {records[0]} flow records per pass, JSON to {output}");
        foreach ((string clock, double[][] values) in new[] { ("wall", seconds), ("cpu", cpu) })
        {
            for (int i = 0; i < sides.Length; i++)
            {
                double median = Measurements.Median(values[i]);
                double json = median - Measurements.Median(values[0]);
                string extra = i == 0 ? string.Empty : $", JSON {json:F3} s = {records[i] / json / 1e6:F2} M records/s";
                Console.WriteLine($"{sides[i],-15} {clock} s: {Measurements.Format(values[i])}  median {median:F3}{extra}");
            }
        }

        bool same = records[0] == records[1] && records[1] == records[2] && SameBytes(capture, maxFlows);
        Console.WriteLine(same ? "records and bytes: same on all sides" : "records or bytes DIFFER");
        return same ? 0 : 1;
    }

    private static double Pass(string capture, string output, int side, int maxFlows, out long records)
    {
        var options = new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = maxFlows } };
        var metadata = new AppMetadataTable();
        var vms = new VmIdentityTable();
        var counting = new CountingSink();
        using Stream? stream = side == 0 ? null : new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
        using var legacy = side == 1 ? new LegacyFlowJsonWriter(stream!, ownsStream: false, metadata, vms) : null;
        using var span = side == 2 ? new SpanFlowSink(stream!, metadata, vms) : null;
        IFlowSink sink = side switch { 0 => counting, 1 => legacy!, _ => span! };
        var clock = Stopwatch.StartNew();
        using (var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(sink, options, new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms))))
        using (CaptureFileReader reader = CaptureFile.Open(capture))
        {
            pipeline.Run(reader);
        }

        legacy?.Flush();
        span?.Flush();
        clock.Stop();
        records = side switch { 0 => counting.Records, 1 => legacy!.Count, _ => span!.Count };
        return clock.Elapsed.TotalSeconds;
    }

    // Both writers over the same run, compared by hash of their bytes.
    private static bool SameBytes(string capture, int maxFlows)
    {
        string a = Path.GetTempFileName(), b = Path.GetTempFileName();
        try
        {
            Write(capture, a, 1, maxFlows);
            Write(capture, b, 2, maxFlows);
            using FileStream fa = File.OpenRead(a), fb = File.OpenRead(b);
            return fa.Length == fb.Length && System.Security.Cryptography.SHA256.HashData(fa).AsSpan().SequenceEqual(System.Security.Cryptography.SHA256.HashData(fb));
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }

    private static void Write(string capture, string output, int side, int maxFlows) => Pass(capture, output, side, maxFlows, out _);

    /// <summary>samples/Sensor/FlowJsonWriter.cs's sink: records joined with their context, drained in 32 KiB writes.</summary>
    internal sealed class SpanFlowSink(Stream stream, AppMetadataTable? metadata, VmIdentityTable? vms) : IFlowSink, IDisposable
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
        private FlowRecordJsonWriter? _json;

        public long Count => _json?.Count ?? 0;

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            _json ??= new FlowRecordJsonWriter(_buffer);
            for (int i = 0; i < records.Length; i++)
            {
                VmIdentity v = vms is null ? default : vms.ForRecord(i);
                AppMetadata m = metadata is null ? default : metadata.ForRecord(i);
                _json.Write(in records[i], in v, in m);
                if (_buffer.WrittenCount > (1 << 15))
                {
                    Drain();
                }
            }
        }

        public void Flush()
        {
            Drain();
            stream.Flush();
        }

        public void Complete() => Flush();

        public void Dispose() => Flush();

        private void Drain()
        {
            stream.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
        }
    }
}
