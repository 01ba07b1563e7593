// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Inference.Detection;
using FlowEngine.Inference.Features;
using FlowEngine.Inference.Onnx;
using FlowEngine.Lab;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>detect</c>: the detection benchmark. Runs the engine over a labelled capture, feeds every flow record to a
/// detector (the classifier alone, or with the model's view), and scores its per-flow alerts against the labels (per attack type: detected, time to first correct alert,
/// recall, precision, confusion; false alerts per VM-hour). Prints a table, and JSON with <c>--json</c>.
/// </summary>
public static class DetectCommand
{
    private const string Help =
        "usage: detect [--capture FILE] [--labels FILE] [--inventory FILE] [--detector none|rules|model] [--model FILE] [--json FILE]\n" +
        "  defaults: samples/data/lab-small.pcapng with its .labels.csv and .inventory.csv\n" +
        "  --detector none   no detector (the ground truth and the arithmetic only)\n" +
        "  --detector rules  FlowClassifier alone (VM identity, metadata, profiles; no model)\n" +
        "  --detector model  FlowClassifier with the model's view of every flow (--model FILE, default the embedded one)\n";

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>detect</c>.</param>
    /// <returns>Exit code.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        if (a.Flag("help"))
        {
            Console.Write(Help);
            return 0;
        }

        string capture = a.String("capture", Path.Combine("samples", "data", "lab-small.pcapng"));
        string stem = capture.EndsWith(".pcapng", StringComparison.Ordinal) ? capture[..^".pcapng".Length] : Path.ChangeExtension(capture, null);
        string labelsPath = a.String("labels", stem + ".labels.csv");
        string inventoryPath = a.String("inventory", stem + ".inventory.csv");
        string detectorName = a.String("detector", "none");
        string json = a.String("json", string.Empty);
        a.ThrowIfUnknown();
        if (detectorName is not ("none" or "rules" or "model"))
        {
            throw new ArgumentException($"Unknown --detector '{detectorName}': available: none, rules, model.");
        }

        string modelPath = a.String("model", string.Empty);
        IReadOnlyList<AttackLabel> labels = AttackLabel.ReadCsv(labelsPath);
        VmInventory inventory = VmInventory.Load(inventoryPath);
        int vms = inventory.Vms.Count;
        var flows = new List<FlowRecord>();
        var alerts = new AlertList();
        IModelSurpriseSource? surprises = null;
        if (detectorName == "model")
        {
            FlowModel model = modelPath.Length > 0 ? FlowModel.Load(modelPath, FeatureSchema.Version, FeatureSchema.Width) : FlowModel.LoadDefault(FeatureSchema.Version, FeatureSchema.Width);
            var data = new FlowDataset();
            var scoreMetadata = new AppMetadataTable();
            var scoreVms = new VmIdentityTable(inventory);
            using (CaptureFileReader reader = CaptureFile.Open(capture))
            using (var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
                new FlowDatasetSink(data, scoreVms, scoreMetadata, new ProfileStore()), new FlowPipelineOptions(), new(new AppMetadataExtension(scoreMetadata), new VmIdentityExtension(scoreVms))))
            {
                pipeline.Run(reader);
            }

            surprises = new ReplaySurprises(new FlowReplayScorer(model).Score(data));
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        FlowClassifier? classifier = detectorName == "none" ? null : new FlowClassifier();
        var metadata = new AppMetadataTable();
        var identities = new VmIdentityTable(inventory);
        IFlowSink collect = FlowSink.FromDelegate((in FlowRecord r) => flows.Add(r));
        IFlowSink sink = classifier is null ? collect : FlowSink.Composite(collect, new FlowClassifierSink(classifier, identities, alerts, metadata, new ProfileStore(), surprises));
        using (CaptureFileReader reader = CaptureFile.Open(capture))
        {
            using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(sink, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(identities)));
            pipeline.Run(reader);
        }

        clock.Stop();
        DetectionReport report = DetectionEvaluator.Evaluate(labels, flows, alerts.Alerts, vms);
        Console.WriteLine($"{capture}: {flows.Count} flows, {labels.Count} labelled attacks, {vms} VMs, detector {detectorName}, {alerts.Alerts.Count} alerted flows, pipeline and classifier {clock.Elapsed.TotalSeconds:F2} s");
        Console.Write(report.ToTable());
        if (json.Length > 0)
        {
            File.WriteAllText(json, report.ToJson());
            Console.WriteLine($"JSON: {json}");
        }

        return 0;
    }

    private sealed class AlertList : IAlertSink
    {
        public List<Alert> Alerts { get; } = [];

        public void OnAlert(in Alert alert) => Alerts.Add(alert);
    }
}
