// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Inference.Detection;
using FlowEngine.Inference.Features;
using FlowEngine.Inference.Onnx;
using FlowEngine.Inference.Training;
using FlowEngine.Mitigation;
using Spectre.Console;

namespace FlowEngine.Sensor;

/// <summary>
/// <c>train</c>: learn the flow model from a capture's flows and write it as ONNX; <c>detect</c>: score a capture's flows
/// with a model and each VM's adaptive threshold, writing the deviating flows as JSON Lines (docs/model.md).
/// </summary>
internal static class ModelCommands
{
    public static Command Train(Option<FileInfo?> inventoryOption, Option<FileInfo?> vmStateOption)
    {
        var capture = new Argument<FileInfo?>("capture") { Description = "Training capture (normal traffic). Default: the bundled lab capture.", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the model (ONNX).", Required = true };
        var hidden = new Option<int>("--hidden") { Description = "GRU state size.", DefaultValueFactory = _ => 32 };
        var epochs = new Option<int>("--epochs") { Description = "Most epochs (early stopping on a held-out part ends sooner).", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { Description = "Seed: the same capture and seed give the same model.", DefaultValueFactory = _ => 1 };
        var zone = new Option<string?>("--time-zone") { Description = "Time zone of the time-of-day features (IANA id). Default UTC." };
        var command = new Command("train", "Learn each VM's normal sequence of flows from a capture and write the model as ONNX.") { capture, inventoryOption, vmStateOption, output, hidden, epochs, seed, zone };
        command.SetAction(parse =>
        {
            IAnsiConsole err = Consoles.Error();
            if (!TryInputs(parse, capture, inventoryOption, vmStateOption, zone, err, out string path, out VmInventory? inventory, out IVmStateSource? states, out FlowClock clock))
            {
                return 2;
            }

            int h = parse.GetValue(hidden), e = parse.GetValue(epochs);
            if (h is < 4 or > 512 || e is < 1 or > 10_000)
            {
                err.MarkupLine("[red]error:[/] --hidden must be 4 to 512 and --epochs 1 to 10,000");
                return 2;
            }

            FlowDataset data = Collect(path, inventory, states, clock, err, out int exit);
            err.MarkupLine($"{data.Rows:N0} flow rows of {data.VmCount:N0} VMs");
            TrainedFlowModel model;
            try
            {
                var progress = new Progress(err);
                model = FlowModelTraining.Train(data, h, new FlowTrainerOptions { MaxEpochs = e, Seed = parse.GetValue(seed) }, progress: progress);
            }
            catch (ArgumentException ex)
            {
                err.MarkupLine($"[red]error:[/] {Markup.Escape(ex.Message)}");
                return 1;
            }

            FileInfo to = parse.GetValue(output)!;
            FlowModelExporter.Export(model.Weights, model.Metadata, to.FullName);
            err.MarkupLine($"model: {Markup.Escape(to.FullName)} ({model.Training.Epochs} epochs, best held-out NLL {model.Training.BestValidationLoss:F3} nats/flow at epoch {model.Training.BestEpoch}, default threshold {model.Metadata.DefaultThreshold:F2}, {model.Training.Elapsed.TotalSeconds:F1} s)");
            return exit;
        });
        return command;
    }

    public static Command Detect(Option<FileInfo?> inventoryOption, Option<FileInfo?> vmStateOption)
    {
        var capture = new Argument<FileInfo?>("capture") { Description = "Capture to score. Default: the bundled lab capture.", Arity = ArgumentArity.ZeroOrOne };
        var modelOption = new Option<FileInfo?>("--model") { Description = "The model (ONNX, from train). Default: the model embedded in FlowEngine.Inference." };
        var outOption = new Option<FileInfo?>("--out") { Description = "Write the alerts (JSON Lines) to this file instead of stdout." };
        var windowOption = new Option<double>("--window") { Description = "Seconds of packet time a cause stays open: its deviating flows are one alert with a count.", DefaultValueFactory = _ => 600 };
        var eachOption = new Option<bool>("--each") { Description = "One alert per deviating flow (no grouping by cause)." };
        var scoresOption = new Option<FileInfo?>("--scores") { Description = "Also write every scored flow (JSON Lines: score, its components, probability and rank of the observed peer, port and application)." };
        var risk = new Option<double>("--risk") { Description = "Probability of a normal flow passing its VM's threshold (1e-6 to 0.01).", DefaultValueFactory = _ => 1e-3 };
        var calibration = new Option<int>("--calibration") { Description = "Scored flows of a VM before its own threshold exists.", DefaultValueFactory = _ => 64 };
        var zone = new Option<string?>("--time-zone") { Description = "Time zone of the time-of-day features (IANA id). Default UTC." };
        var archiveOption = new Option<DirectoryInfo?>("--archive") { Description = "Replay a flow archive (flows --archive DIR) instead of a capture: the same records in the same order, so the same alerts as a run on the capture that wrote it." };
        var intelOption = new Option<FileInfo[]>("--intel") { Description = "Threat intelligence file (repeatable): addresses, CIDRs, domains, JA3/JA4, one a line or CSV with an indicator column; reloaded when it changes.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("detect", "Score every flow against its VM's predicted next flow, classify what deviates or matches an attack rule, and write the alerts (JSON Lines).") { capture, inventoryOption, vmStateOption, modelOption, outOption, scoresOption, windowOption, eachOption, risk, calibration, zone, intelOption, archiveOption };
        var mitigation = new MitigationCliOptions();
        mitigation.AddTo(command);
        var exports = new AlertExportOptions();
        exports.AddTo(command);
        command.SetAction(parse =>
        {
            IAnsiConsole err = Consoles.Error();
            if (!TryInputs(parse, capture, inventoryOption, vmStateOption, zone, err, out string path, out VmInventory? inventory, out IVmStateSource? states, out FlowClock clock))
            {
                return 2;
            }

            FlowReplayScorer scorer;
            try
            {
                FlowModel model = parse.GetValue(modelOption) is FileInfo file
                    ? FlowModel.Load(file.FullName, FeatureSchema.Version, FeatureSchema.Width)
                    : FlowModel.LoadDefault(FeatureSchema.Version, FeatureSchema.Width);
                scorer = new FlowReplayScorer(model, new FlowThresholdOptions { Risk = parse.GetValue(risk), Calibration = parse.GetValue(calibration) });
            }
            catch (Exception e) when (e is FlowModelFormatException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return 2;
            }

            ThreatIntelFeed? intel;
            try
            {
                string[] intelFiles = [.. (parse.GetValue(intelOption) ?? []).Select(f => f.FullName)];
                intel = intelFiles.Length == 0 ? null : new ThreatIntelFeed(intelFiles);
                if (intel is { Current.RejectedCount: > 0 } feed)
                {
                    err.MarkupLine($"[yellow]warning:[/] threat intelligence: {feed.Current.RejectedCount:N0} lines refused, first: {Markup.Escape(feed.Current.Rejected[0])}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                err.MarkupLine($"[red]error:[/] threat intelligence: {Markup.Escape(e.Message)}");
                return 2;
            }

            ArchiveReplay? replay = parse.GetValue(archiveOption) is DirectoryInfo archiveDir ? new ArchiveReplay(archiveDir.FullName, inventory) : null;
            int exit = 0;
            FlowDataset data = replay is null ? Collect(path, inventory, states, clock, err, out exit) : CollectArchive(replay, states, clock);
            IReadOnlyList<FlowScore> scores = scorer.Score(data);
            var surprises = new ReplaySurprises(scores);

            // Second pass over the same capture (its records are the same, byte for byte): classify every flow with
            // its context and what the model said of it.
            var perFlow = new List<Alert>();
            var profiles = new ProfileStore(new ProfileOptions { TimeZone = clock.Zone });
            var classifier = new FlowClassifier(new ClassifierOptions(), intel, states, profiles);
            if (replay is null)
            {
                Classify(path, inventory, profiles, classifier, surprises, new AlertList(perFlow));
            }
            else
            {
                replay.Run((in FlowRecord r, in VmIdentity v, AppMetadata m) =>
                {
                    ProfileUpdate update = profiles.Observe(in r, in v, m);
                    surprises.Lookup(in r, out ModelSurprise originator, out ModelSurprise responder);
                    if (classifier.Classify(new FlowObservation(in r, in v, m, in update, originator, responder), out Alert alert))
                    {
                        perFlow.Add(alert);
                    }
                });
                foreach (Archive.ArchiveIssue issue in replay.Issues)
                {
                    err.MarkupLine($"[yellow]warning:[/] archive: {Markup.Escape(issue.ToString())}");
                    exit = 1;
                }
            }
            var closed = new List<Alert>();
            IAlertSink output = new AlertList(closed);
            if (parse.GetValue(eachOption))
            {
                closed.AddRange(perFlow);
            }
            else
            {
                var grouper = new AlertGrouper(TimeSpan.FromSeconds(parse.GetValue(windowOption)), output);
                foreach (Alert a in perFlow)
                {
                    grouper.OnAlert(in a);
                }

                grouper.Flush();
            }

            FileInfo? outFile = parse.GetValue(outOption), scoresFile = parse.GetValue(scoresOption);
            // The model's view shown with an alert: its VM's, else the one that deviated, else the higher score.
            var byFlow = scores.Where(s => s.Scored).GroupBy(s => FlowIdentity.Of(s.Record)).ToDictionary(g => g.Key, g => g.ToList());
            FlowScore? ModelView(in Alert a)
            {
                string? vm = a.Vm;
                return byFlow.TryGetValue(a.Flow, out List<FlowScore>? both)
                    ? both.FirstOrDefault(s => s.Vm == vm) ?? both.MaxBy(s => (s.Alert ? 1 : 0, s.Score))
                    : null;
            }

            using (Stream alertsOut = outFile is null ? Console.OpenStandardOutput() : outFile.Create())
            using (Stream? scoresOut = scoresFile?.Create())
            {
                JsonLines(alertsOut, closed, (json, a) => WriteAlert(json, a, ModelView(in a)));
                if (scoresOut is not null)
                {
                    JsonLines(scoresOut, scores.Where(s => s.Scored), WriteScore);
                }
            }

            using (AlertExport? export = exports.TryBuild(parse, out string? exportError))
            {
                if (exportError is not null)
                {
                    err.MarkupLine($"[red]error:[/] {Markup.Escape(exportError)}");
                    return 2;
                }

                if (export is not null)
                {
                    // The same alerts to the SIEM sinks (ECS file, CEF syslog, webhook), delivered before exit.
                    foreach (Alert a in closed)
                    {
                        export.OnAlert(in a);
                    }

                    // A console command's synchronous action: there is no synchronization context to deadlock on.
#pragma warning disable VSTHRD002
                    bool delivered = export.CompleteAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
                    foreach (string line in export.Summary())
                    {
                        Console.Error.WriteLine(line);
                    }

                    exit = delivered ? exit : 1;
                }
            }

            if (mitigation.Given(parse))
            {
                // The alerts in packet-time order through the policy and the handler (dry-run unless --enforce); the
                // audit log goes to stderr or --audit; everything applied is reverted at exit.
                using MitigationController? controller = mitigation.Create(parse, err, packetTime: true, Console.OpenStandardError());
                if (controller is null)
                {
                    return 2;
                }

                foreach (Alert a in closed.OrderBy(a => a.TimestampNs))
                {
                    controller.OnAlert(in a);
                }

                controller.Dispose();
                MitigationCliOptions.Report(err, closed.Count, controller);
            }

            int alerts = scores.Count(s => s.Alert);
            var table = new Table().Border(TableBorder.Rounded).AddColumn("VM").AddColumn(new TableColumn("flows scored").RightAligned())
                .AddColumn(new TableColumn("deviating").RightAligned()).AddColumn(new TableColumn("threshold now").RightAligned()).AddColumn(new TableColumn("median score").RightAligned());
            foreach (IGrouping<string, FlowScore> vm in scores.Where(s => s.Scored).GroupBy(s => s.Vm).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                float[] sorted = [.. vm.Select(s => s.Score).Order()];
                table.AddRow(Markup.Escape(vm.Key), vm.Count().ToString("N0", CultureInfo.InvariantCulture), vm.Count(s => s.Alert).ToString("N0", CultureInfo.InvariantCulture),
                    vm.Last().Threshold.ToString("F2", CultureInfo.InvariantCulture), sorted[sorted.Length / 2].ToString("F2", CultureInfo.InvariantCulture));
            }

            err.Write(table);
            err.MarkupLine($"{scores.Count(s => s.Scored):N0} flows scored, {alerts:N0} deviating, {scores.Count(s => s.Scored && s.Calibrating):N0} scored while their VM calibrated");
            string classes = string.Join(", ", Enum.GetValues<AttackClass>().Where(c => c != AttackClass.None && classifier.FlowsByClass[(int)c] > 0).Select(c => $"{c.ToName()} {classifier.FlowsByClass[(int)c]:N0}"));
            err.MarkupLine($"{classifier.Flows:N0} flows classified: {(classes.Length == 0 ? "none alerted" : Markup.Escape(classes))} in {closed.Count:N0} alerts");

            return exit;
        });
        return command;
    }

    // An alert (docs/detection.md): class, confidence, count and span, the flow, the rules' evidence, and, when the
    // model scored the flow, its score against the VM's threshold and what each head expected.
    private static void WriteAlert(Utf8JsonWriter json, Alert a, FlowScore? s)
    {
        json.WriteStartObject();
        json.WriteNumber("ts", Math.Round(a.TimestampNs / 1e9, 6));
        json.WriteNumber("last_ts", Math.Round(a.LastNs / 1e9, 6));
        json.WriteString("type", a.Class.ToName());
        json.WriteNumber("confidence", a.Confidence);
        json.WriteNumber("count", a.Count);
        if (a.Vm is not null)
        {
            json.WriteString("vm", a.Vm);
        }

        FlowIdentity f = a.Flow;
        json.WriteString("vn_type", Packets.VirtualNetworkId.KindToName(f.Network.Kind));
        json.WriteNumber("vn_id", f.Network.Id);
        json.WriteNumber("proto", f.Protocol);
        json.WriteString("src_ip", f.Source.ToString(f.IpVersion));
        json.WriteNumber("src_port", f.SourcePort);
        json.WriteString("dst_ip", f.Destination.ToString(f.IpVersion));
        json.WriteNumber("dst_port", f.DestinationPort);
        if (a.Target is Packets.IpAddress target)
        {
            json.WriteString("target", target.ToString(f.IpVersion));
        }

        if (a.TargetName is not null)
        {
            json.WriteString("target_name", a.TargetName);
        }

        json.WriteStartArray("rules");
        foreach (AlertEvidence e in a.Evidence ?? [])
        {
            json.WriteStartObject();
            json.WriteString("rule", e.Rule);
            json.WriteNumber("value", e.Value);
            if (!double.IsNaN(e.Threshold))
            {
                json.WriteNumber("threshold", e.Threshold);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (s is not null)
        {
            json.WriteStartObject("model");
            json.WriteString("vm", s.Vm);
            json.WriteString("perspective", s.Perspective == FlowPerspective.Originator ? "originator" : "responder");
            json.WriteNumber("score", Math.Round(s.Score, 4));
            json.WriteNumber("threshold", Math.Round(s.Threshold, 4));
            json.WriteBoolean("alert", s.Alert);
            json.WriteBoolean("calibrating", s.Calibrating);
            json.WriteStartObject("heads");
            foreach (HeadEvidence e in s.Evidence.OrderByDescending(e => e.Nll))
            {
                json.WriteStartObject(e.Head);
                json.WriteNumber("nll", Math.Round(e.Nll, 4));
                if (e.Rank > 0)
                {
                    json.WriteNumber("observed", (int)e.Observed);
                    json.WriteNumber("predicted", (int)e.Predicted);
                    json.WriteNumber("p", Math.Round(e.Probability, 6));
                    json.WriteNumber("rank", e.Rank);
                }
                else if (!double.IsNaN(e.Observed) && e.Observed >= 0)
                {
                    json.WriteNumber("observed", Math.Round(e.Observed, 4));
                    json.WriteNumber("predicted", Math.Round(e.Predicted, 4));
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    // Every scored flow, for measuring the predictions: the probability and rank of the observed peer, port and application.
    private static void WriteScore(Utf8JsonWriter json, FlowScore s)
    {
        json.WriteStartObject();
        json.WriteNumber("ts", Math.Round(s.Record.FirstNs / 1e9, 6));
        WriteFlow(json, s);
        json.WriteBoolean("alert", s.Alert);
        foreach ((string head, string name) in new[] { ("peer", "dst"), ("port", "port"), ("app", "app") })
        {
            HeadEvidence e = s.Evidence.First(x => x.Head == head);
            if (e.Rank > 0)
            {
                json.WriteNumber("p_" + name, Math.Round(e.Probability, 6));
                json.WriteNumber("rank_" + name, e.Rank);
            }
        }

        foreach (HeadEvidence e in s.Evidence)
        {
            json.WriteNumber("nll_" + e.Head, Math.Round(e.Nll, 4));
        }

        json.WriteEndObject();
    }

    private static void WriteFlow(Utf8JsonWriter json, FlowScore s)
    {
        FlowRecord r = s.Record;
        json.WriteString("vn_type", Packets.VirtualNetworkId.KindToName(r.VnKind));
        json.WriteNumber("vn_id", r.VnId);
        json.WriteString("vm", s.Vm);
        json.WriteString("perspective", s.Perspective == FlowPerspective.Originator ? "originator" : "responder");
        json.WriteNumber("proto", r.Protocol);
        json.WriteString("src_ip", r.SourceAddress.ToString(r.IpVersion));
        json.WriteNumber("src_port", r.SourcePort);
        json.WriteString("dst_ip", r.DestinationAddress.ToString(r.IpVersion));
        json.WriteNumber("dst_port", r.DestinationPort);
        json.WriteNumber("score", Math.Round(s.Score, 4));
    }

    private static void JsonLines<T>(Stream stream, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        using var json = new Utf8JsonWriter(stream);
        foreach (T s in items)
        {
            write(json, s);
            json.Flush();
            stream.Write("\n"u8);
            json.Reset(stream);
        }
    }

    // The inputs every capture command shares: the capture (default: the bundled one, with its inventory), the
    // inventory, the VM state timeline and the time zone; false (after printing why) when one cannot be read.
    internal static bool TryInputs(ParseResult parse, Argument<FileInfo?> capture, Option<FileInfo?> inventoryOption, Option<FileInfo?>? vmStateOption, Option<string?> zone, IAnsiConsole err, out string path, out VmInventory? inventory, out IVmStateSource? states, out FlowClock clock)
    {
        FileInfo? named = parse.GetValue(capture);
        path = named?.FullName ?? DefaultCapture.Path;
        inventory = null;
        states = null;
        clock = new FlowClock();
        try
        {
            if (parse.GetValue(zone) is string id)
            {
                clock = new FlowClock(TimeZoneInfo.FindSystemTimeZoneById(id));
            }

            // The bundled capture comes with its inventory: the defaults run as the lab recorded them.
            FileInfo? file = parse.GetValue(inventoryOption);
            string? inventoryPath = file?.FullName ?? (named is null && File.Exists(DefaultCapture.InventoryPath) ? DefaultCapture.InventoryPath : null);
            inventory = inventoryPath is null ? null : VmInventory.Load(inventoryPath);
            states = vmStateOption is not null && parse.GetValue(vmStateOption) is FileInfo stateFile ? VmStateTimeline.Load(stateFile.FullName) : null;
            return true;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or VmInventoryFormatException or VmStateFormatException or IOException or UnauthorizedAccessException)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return false;
        }
    }

    // The capture's flows with VM identity, application metadata and profile novelty, as feature rows per VM.
    private static FlowDataset Collect(string path, VmInventory? inventory, IVmStateSource? states, FlowClock clock, IAnsiConsole err, out int exit)
    {
        exit = 0;
        var metadata = new AppMetadataTable();
        var vms = new VmIdentityTable(inventory);
        var profiles = new ProfileStore(new ProfileOptions { TimeZone = clock.Zone });
        var data = new FlowDataset(clock);
        try
        {
            using CaptureFileReader source = CaptureFile.Open(path);
            using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
                new FlowDatasetSink(data, vms, metadata, profiles, states), new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms)));
            pipeline.Run(source);
        }
        catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException)
        {
            // The flows before the damage are kept.
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            exit = 1;
        }

        if (data.RowsDropped > 0)
        {
            err.MarkupLine($"[yellow]warning:[/] {data.RowsDropped:N0} flow rows beyond {data.MaxRows:N0} not kept");
        }

        return data;
    }

    // An archive's flows as feature rows per VM, as Collect makes them from the capture that wrote it.
    private static FlowDataset CollectArchive(ArchiveReplay replay, IVmStateSource? states, FlowClock clock)
    {
        var profiles = new ProfileStore(new ProfileOptions { TimeZone = clock.Zone });
        var data = new FlowDataset(clock);
        replay.Run((in FlowRecord r, in VmIdentity v, AppMetadata m) =>
        {
            ProfileUpdate update = profiles.Observe(in r, in v, m);
            data.Add(in r, new FlowContext(v, m, update, hasMetadata: true, hasProfile: true, states));
        });
        return data;
    }

    // The capture's flows again, classified with their context and the model's view of each.
    private static void Classify(string path, VmInventory? inventory, ProfileStore profiles, FlowClassifier classifier, IModelSurpriseSource surprises, IAlertSink alerts)
    {
        var metadata = new AppMetadataTable();
        var vms = new VmIdentityTable(inventory);
        try
        {
            using CaptureFileReader source = CaptureFile.Open(path);
            using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
                new FlowClassifierSink(classifier, vms, alerts, metadata, profiles, surprises), new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms)));
            pipeline.Run(source);
        }
        catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException)
        {
            // Reported by the first pass; the flows before the damage are classified.
        }
    }

    private sealed class AlertList(List<Alert> alerts) : IAlertSink
    {
        public void OnAlert(in Alert alert) => alerts.Add(alert);
    }

    private sealed class Progress(IAnsiConsole err) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => err.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}/{p.MaxEpochs}: train NLL {p.TrainLoss:F3}, held-out {p.ValidationLoss:F3} (best {p.BestValidationLoss:F3} at {p.BestEpoch}), {p.Elapsed.TotalSeconds:F1} s"));
    }
}
