// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Diagnostics;
using FlowEngine;
using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Export;
using FlowEngine.Flows;
using FlowEngine.Sensor;
using Spectre.Console;

var captureArgument = new Argument<FileInfo?>("capture")
{
    Description = "A pcap or pcapng file (optionally gzip-compressed). Default: the capture bundled with the sensor.",
    Arity = ArgumentArity.ZeroOrOne,
};
var outOption = new Option<FileInfo?>("--out") { Description = "Write the JSON Lines flow records to this file instead of stdout." };
var maxFlowsOption = new Option<int>("--max-flows") { Description = "Flow table size (most concurrent flows).", DefaultValueFactory = _ => 1 << 20 };
var vxlanPortOption = new Option<ushort[]>("--vxlan-port") { Description = "Extra UDP destination port decoded as VXLAN (repeatable), e.g. 8472.", AllowMultipleArgumentsPerToken = true };
var quietOption = new Option<bool>("--quiet") { Description = "No summary on stderr." };
var noMetadataOption = new Option<bool>("--no-metadata") { Description = "Flow records only: no application metadata (DNS, HTTP, TLS, SSH)." };
var ipfixOption = new Option<string?>("--ipfix") { Description = "Also export the flows as IPFIX to a collector: udp://HOST:PORT or tcp://HOST:PORT (docs/ipfix.md)." };
var vmStateOption = new Option<FileInfo?>("--vm-state") { Description = "VM resource state timeline (CSV time_ns,vm,cpu_ns,memory_bytes,disk_read_bytes,disk_write_bytes; docs/vm-state.md): each flow carries its VMs' state at start and end, joined by packet time." };
var archiveOption = new Option<DirectoryInfo?>("--archive") { Description = "Also append the flows with their VMs and metadata to this archive directory (docs/archive.md; read it with query)." };
var inventoryOption = new Option<FileInfo?>("--inventory") { Description = "VM inventory (CSV name,tenant,vni,inner_ip,inner_mac,role,hypervisor; .json; or libvirt domain .xml). Without it, VMs are learned from the traffic." };

var flowsCommand = new Command("flows", "Turn a capture into flow records (JSON Lines) and print a summary to stderr.")
{
    captureArgument, outOption, maxFlowsOption, vxlanPortOption, quietOption, noMetadataOption, inventoryOption, vmStateOption, ipfixOption, archiveOption,
};
flowsCommand.SetAction(parse =>
{
    string path = parse.GetValue(captureArgument)?.FullName ?? DefaultCapture.Path;
    var options = new FlowPipelineOptions();
    options.Flows.MaxFlows = parse.GetValue(maxFlowsOption);
    foreach (ushort port in parse.GetValue(vxlanPortOption) ?? [])
    {
        options.Decoder.VxlanPorts.Add(port);
    }

    FileInfo? outFile = parse.GetValue(outOption);
    bool quiet = parse.GetValue(quietOption);
    IAnsiConsole err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
    try
    {
        options.Flows.Validate();
        options.Decoder.Validate();
    }
    catch (ArgumentOutOfRangeException e)
    {
        err.MarkupLine($"[red]error:[/] bad configuration: {Markup.Escape(e.Message)}");
        return 2;
    }

    VmInventory? inventory = null;
    VmStateTimeline? timeline = null;
    FileInfo? inventoryFile = parse.GetValue(inventoryOption);
    try
    {
        inventory = inventoryFile is null ? null : VmInventory.Load(inventoryFile.FullName);
        timeline = parse.GetValue(vmStateOption) is FileInfo stateFile ? VmStateTimeline.Load(stateFile.FullName) : null;
    }
    catch (Exception e) when (e is VmInventoryFormatException or VmStateFormatException or IOException or UnauthorizedAccessException)
    {
        err.MarkupLine($"[red]error:[/] {(e is VmStateFormatException ? "VM state" : "inventory")}: {Markup.Escape(e.Message)}");
        return 2;
    }

    Stream output = outFile is null ? Console.OpenStandardOutput() : outFile.Create();
    AppMetadataTable? metadata = parse.GetValue(noMetadataOption) ? null : new AppMetadataTable();
    var vms = new VmIdentityTable(inventory);
    using var writer = new FlowJsonWriter(output, ownsStream: true, metadata, vms, timeline);
    IpfixExporter? ipfix = null;
    try
    {
        string? collector = parse.GetValue(ipfixOption);
        ipfix = collector is null ? null : IpfixExporter.Create(collector, metadata: metadata);
    }
    catch (ArgumentException e)
    {
        err.MarkupLine($"[red]error:[/] --ipfix: {Markup.Escape(e.Message)}");
        return 2;
    }

    using IpfixExporter? ipfixScope = ipfix;
    FlowEngine.Archive.ArchiveWriter? archive = null;
    try
    {
        archive = parse.GetValue(archiveOption) is DirectoryInfo archiveDir ? new FlowEngine.Archive.ArchiveWriter(archiveDir.FullName, null, metadata, vms) : null;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        err.MarkupLine($"[red]error:[/] --archive: {Markup.Escape(e.Message)}");
        return 2;
    }

    using FlowEngine.Archive.ArchiveWriter? archiveScope = archive;
    IFlowSink sink = (ipfix, archive) switch
    {
        (null, null) => writer,
        (_, null) => FlowSink.Composite(writer, ipfix),
        (null, _) => FlowSink.Composite(writer, archive),
        _ => FlowSink.Composite(writer, ipfix, archive),
    };
    var clock = Stopwatch.StartNew();
    int exitCode = 0;
    PipelineStatistics statistics = new();
    Exception? error = null;
    try
    {
        using CaptureFileReader source = CaptureFile.Open(path);
        bool progress = !(quiet || Console.IsErrorRedirected || source.IsCompressed);
        statistics = metadata is null
            ? Run(new FlowPipeline<VmIdentityExtension>(sink, options, new VmIdentityExtension(vms)), source, err, progress, path, out error)
            : Run(
                new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(sink, options, new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms))),
                source, err, progress, path, out error);
    }
    catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException)
    {
        error = e;
    }

    if (error is not null)
    {
        // Every flow of the packets before the damage has been written.
        writer.Flush();
        err.MarkupLine($"[red]error:[/] {Markup.Escape(error.Message)}");
        exitCode = 1;
    }

    writer.Flush();
    ipfix?.Complete();
    archive?.Complete();
    clock.Stop();
    if (!quiet)
    {
        Summary.Print(err, path, statistics, writer.Count, clock.Elapsed, vms);
    }

    if (archive is not null && !quiet)
    {
        Console.Error.WriteLine($"archive {archive.Directory}: {archive.RecordsAcknowledged} records acknowledged, {archive.FramesWritten} frames, {archive.BytesWritten} bytes, {archive.SegmentsSealed} segments sealed, {archive.SegmentsDeleted} deleted");
    }

    if (ipfix is not null)
    {
        // Always, even with --quiet: a drop must not go unnoticed.
        IpfixExporterStatistics x = ipfix.Statistics;
        Console.Error.WriteLine(
            $"ipfix {ipfix.Transport}://{ipfix.Collector}: {x.MessagesSent} messages, {x.RecordsSent} records, {x.BytesSent} bytes, " +
            $"{x.TemplatesSent} template sends, {x.MessagesDropped} messages ({x.RecordsDropped} records) dropped, {x.Reconnects} reconnects");
    }

    return exitCode;
});

static PipelineStatistics Run<TExtension>(FlowPipeline<TExtension> pipeline, CaptureFileReader source, IAnsiConsole err, bool progress, string path, out Exception? error)
    where TExtension : struct, IFlowExtension
{
    error = null;
    try
    {
        if (progress)
        {
            // Interactive: a progress bar over the file's bytes on stderr.
            RunWithProgress(err, pipeline, source, new FileInfo(path).Length);
        }
        else
        {
            pipeline.Run(source);
        }
    }
    catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException)
    {
        // The flows of the packets before the damage have been flushed; the counters go with the error.
        error = e;
    }

    return pipeline.Statistics;
}

static void RunWithProgress<TExtension>(IAnsiConsole console, FlowPipeline<TExtension> pipeline, CaptureFileReader source, long length)
    where TExtension : struct, IFlowExtension
{
    var batch = new PacketBatch(256);
    try
    {
        console.Progress().AutoClear(true).Start(context =>
        {
            ProgressTask task = context.AddTask("reading", maxValue: Math.Max(1, length));
            while (source.ReadBatch(batch))
            {
                pipeline.ProcessBatch(batch);
                task.Value = source.Position;
            }
        });
    }
    finally
    {
        pipeline.Flush();
    }
}

var root = new RootCommand("FlowEngine sensor: flow records, VM profiles, the predictive flow model (train, detect), mitigation and the flow archive over captures.")
{
    flowsCommand, ProfileCommand.Create(inventoryOption), ModelCommands.Train(inventoryOption, vmStateOption), ModelCommands.Detect(inventoryOption, vmStateOption), MitigateCommand.Create(), QueryCommand.Create(),
};
return root.Parse(args).Invoke();
