// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using FlowEngine.AppLayer;
using FlowEngine.Archive;
using FlowEngine.Benchmarks.Flows;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>archive-size [--capture FILE] [--inventory FILE] [--frame N]</c>: archives a capture's flows with their context
/// and prints the bytes on disk per record, the raw (uncompressed) bytes per record, and the time to write and read.
/// </summary>
public static class ArchiveSizeCommand
{
    /// <summary>Runs the mode.</summary>
    /// <param name="args">Options.</param>
    /// <returns>Exit code.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        string capture = a.String("capture", LabCapture.Path);
        string inventory = a.String("inventory", Path.Combine(Path.GetDirectoryName(LabCapture.Path)!, "lab-small.inventory.csv"));
        int frame = (int)a.Int("frame", 256);
        string dir = Path.Combine(Path.GetTempPath(), $"flowengine-archive-size-{Environment.ProcessId}");
        try
        {
            var metadata = new AppMetadataTable();
            var vms = new VmIdentityTable(File.Exists(inventory) ? VmInventory.Load(inventory) : null);
            var clock = Stopwatch.StartNew();
            long written;
            using (var writer = new ArchiveWriter(dir, new ArchiveWriterOptions { RecordsPerFrame = frame }, metadata, vms))
            using (CaptureFileReader reader = CaptureFile.Open(capture))
            {
                new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
                    writer, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms))).Run(reader);
                writer.Complete();
                written = writer.RecordsWritten;
            }

            double pipelineAndWrite = clock.Elapsed.TotalSeconds;
            long segmentBytes = Directory.GetFiles(dir, "*.fes").Sum(f => new FileInfo(f).Length);
            long indexBytes = Directory.GetFiles(dir, "*.fei").Sum(f => new FileInfo(f).Length);
            var archive = new ArchiveReader(dir);
            long raw = archive.Segments.Sum(s => s.Frames.Sum(f => (long)f.RawLength));
            long payload = archive.Segments.Sum(s => s.Frames.Sum(f => (long)f.PayloadLength));
            clock.Restart();
            long read = archive.Read().LongCount();
            double readSeconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{capture}: {written} records ({read} read back), {archive.FrameCount} frames of up to {frame}\n" +
                $"segments {segmentBytes} B = {(double)segmentBytes / written:F1} B/record on disk (+ index {indexBytes} B = {(double)indexBytes / written:F1} B/record)\n" +
                $"raw frames {raw} B = {(double)raw / written:F1} B/record ({ArchiveFormatRecordSize()} B record + context), LZ4 payload {payload} B: ratio {(double)raw / payload:F2}\n" +
                $"capture -> pipeline -> archive {pipelineAndWrite:F3} s; read back with context {readSeconds:F3} s"));
            return read == written && archive.Issues.Count == 0 ? 0 : 1;
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static int ArchiveFormatRecordSize() => System.Runtime.CompilerServices.Unsafe.SizeOf<FlowRecord>();
}
