// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
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
using FlowEngine.Lab;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>eval-model</c>: trains the flow model on a lab training capture, replays training then evaluation flows through
/// it (so every VM's state and threshold are warm when the evaluation starts), and scores its alerts on the evaluation
/// capture's labels beside two baselines computed on the same flows: (a) a destination the VM never contacted before
/// (from its behavioural profile, trained on the same capture), (b) a robust z-score of the same feature rows per VM
/// (median and MAD of its training rows, thresholded at the 99.9th percentile of its own training scores). The
/// detectors do not classify: an alert is correct when it names an attack's flow (DetectionEvaluator anyClass).
/// </summary>
public static class EvalModelCommand
{
    private const string Help =
        "usage: eval-model --train CAPTURE --eval CAPTURE --labels FILE --inventory FILE [--hidden 32] [--epochs 200] [--seed 1] [--risk 0.001]\n" +
        "  the lab writes them as DIR/train-underlay-days.pcapng, DIR/eval-underlay-days.pcapng, DIR/eval-days.labels.csv, DIR/inventory.csv\n";

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>eval-model</c>.</param>
    /// <returns>Exit code.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        if (a.Flag("help"))
        {
            Console.Write(Help);
            return 0;
        }

        string train = a.String("train", string.Empty), eval = a.String("eval", string.Empty);
        string labelsPath = a.String("labels", string.Empty), inventoryPath = a.String("inventory", string.Empty);
        int hidden = (int)a.Int("hidden", 32), epochs = (int)a.Int("epochs", 200), seed = (int)a.Int("seed", 1);
        double risk = a.Double("risk", 1e-3);
        a.ThrowIfUnknown();
        if (train.Length == 0 || eval.Length == 0 || labelsPath.Length == 0 || inventoryPath.Length == 0)
        {
            Console.Error.Write(Help);
            return 2;
        }

        VmInventory inventory = VmInventory.Load(inventoryPath);
        IReadOnlyList<AttackLabel> labels = AttackLabel.ReadCsv(labelsPath);
        int vmCount = inventory.Vms.Count(v => !v.IsGateway);
        var profiles = new ProfileStore();

        // Training flows: the model's data, the profiles' history, the z-score's baseline.
        var trainData = new FlowDataset();
        Collect(train, inventory, profiles, trainData, null);
        TrainedFlowModel model = FlowModelTraining.Train(trainData, hidden, new FlowTrainerOptions { MaxEpochs = epochs, Seed = seed });
        Console.WriteLine($"train: {train}: {trainData.Rows} rows of {trainData.VmCount} VMs; {model.Training.Epochs} epochs, held-out NLL {model.Training.BestValidationLoss:F3}");

        // Evaluation flows, continuing the same profiles; the replay gets training and evaluation rows in one dataset.
        var replay = new FlowDataset();
        Collect(train, inventory, new ProfileStore(), replay, null);
        long evalStart = long.MaxValue;
        var newDestination = new List<Alert>();
        var evalRun = Collect(eval, inventory, profiles, replay, (in FlowRecord r, in ProfileUpdate u, VmIdentity v) =>
        {
            if (v.Source is not null && u.NewPeer)
            {
                newDestination.Add(new Alert(r.FirstNs, AttackClass.None, 1, FlowIdentity.Of(r)));
            }
        });
        evalStart = evalRun.Flows.Count == 0 ? 0 : evalRun.Flows.Min(f => f.FirstNs);

        FlowModel onnx = FlowModel.Load(FlowModelExporter.Export(model.Weights, model.Metadata), "eval-model", FeatureSchema.Version, FeatureSchema.Width);
        var modelAlerts = new FlowReplayScorer(onnx, new FlowThresholdOptions { Risk = risk }).Score(replay)
            .Where(s => s.Alert && s.Record.FirstNs >= evalStart)
            .Select(s => new Alert(s.Record.FirstNs, AttackClass.None, s.Score, FlowIdentity.Of(s.Record))).ToList();
        List<Alert> zAlerts = RobustZ(trainData, replay, evalStart, model);

        Console.WriteLine($"eval: {eval}: {evalRun.Flows.Count} flows, {labels.Count} labelled attacks, {vmCount} VMs");
        foreach ((string name, List<Alert> alerts) in new[] { ("model (GRU, SPOT per VM)", modelAlerts), ("(a) new destination for the VM", newDestination), ("(b) robust z-score per VM", zAlerts) })
        {
            DetectionReport report = DetectionEvaluator.Evaluate(labels, evalRun.Flows, alerts, vmCount, anyClass: true);
            Console.WriteLine();
            Console.WriteLine($"{name}: {alerts.Count} alerts, {report.FalseAlerts} false, {report.FalseAlertsPerVmHour.ToString("F1", CultureInfo.InvariantCulture)} false per VM-hour");
            Console.Write(report.ToTable());
        }

        return 0;
    }

    private delegate void FlowObserver(in FlowRecord record, in ProfileUpdate update, VmIdentity vms);

    private sealed record RunResult(List<FlowRecord> Flows);

    private static RunResult Collect(string capture, VmInventory inventory, ProfileStore profiles, FlowDataset data, FlowObserver? observe)
    {
        var vms = new VmIdentityTable(inventory);
        var metadata = new AppMetadataTable();
        var flows = new List<FlowRecord>();
        var sink = new Sink(vms, metadata, profiles, data, flows, observe);
        using CaptureFileReader reader = CaptureFile.Open(capture);
        using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(sink, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms)));
        pipeline.Run(reader);
        return new RunResult(flows);
    }

    // Per VM: the median and MAD of each normalised column over its training rows; a row's score is the mean of its
    // three largest |z|; the VM's threshold the 99.9th percentile of its training scores.
    private static List<Alert> RobustZ(FlowDataset trainData, FlowDataset replay, long evalStart, TrainedFlowModel model)
    {
        var normalizer = new FeatureNormalizer([.. model.Metadata.InputMean], [.. model.Metadata.InputStd]);
        int w = FeatureSchema.Width;
        var baselines = new Dictionary<string, (float[] Median, float[] Mad, float Threshold)>();
        foreach (VmFlowSequence s in trainData.Sequences())
        {
            normalizer.Normalize(s.Rows);
            float[] median = new float[w], mad = new float[w];
            for (int c = 0; c < w; c++)
            {
                float[] column = [.. Enumerable.Range(0, s.Length).Select(t => s.Rows[(t * w) + c]).Order()];
                median[c] = column[column.Length / 2];
                float[] dev = [.. column.Select(v => Math.Abs(v - median[c])).Order()];
                mad[c] = Math.Max(dev[dev.Length / 2] * 1.4826f, 0.1f);
            }

            float[] scores = [.. Enumerable.Range(0, s.Length).Select(t => Score(s.Rows.AsSpan(t * w, w), median, mad)).Order()];
            baselines[s.Vm] = (median, mad, scores[Math.Min(scores.Length - 1, (int)(scores.Length * 0.999))]);
        }

        var alerts = new List<Alert>();
        foreach (VmFlowSequence s in replay.Sequences())
        {
            if (!baselines.TryGetValue(s.Vm, out var b))
            {
                continue;
            }

            normalizer.Normalize(s.Rows);
            for (int t = 0; t < s.Length; t++)
            {
                if (s.StartNs[t] >= evalStart)
                {
                    float score = Score(s.Rows.AsSpan(t * w, w), b.Median, b.Mad);
                    if (score > b.Threshold)
                    {
                        alerts.Add(new Alert(s.StartNs[t], AttackClass.None, score, FlowIdentity.Of(s.Records[t])));
                    }
                }
            }
        }

        return alerts;
    }

    private static float Score(ReadOnlySpan<float> row, float[] median, float[] mad)
    {
        float a = 0, b = 0, c = 0;
        for (int i = 0; i < row.Length; i++)
        {
            float z = Math.Abs(row[i] - median[i]) / mad[i];
            if (z > a)
            {
                (a, b, c) = (z, a, b);
            }
            else if (z > b)
            {
                (b, c) = (z, b);
            }
            else if (z > c)
            {
                c = z;
            }
        }

        return (a + b + c) / 3;
    }

    private sealed class Sink(VmIdentityTable vms, AppMetadataTable metadata, ProfileStore profiles, FlowDataset data, List<FlowRecord> flows, FlowObserver? observe) : IFlowSink
    {
        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                flows.Add(records[i]);
                VmIdentity v = vms.ForRecord(i);
                AppMetadata m = metadata.ForRecord(i);
                ProfileUpdate u = profiles.Observe(in records[i], in v, m);
                observe?.Invoke(in records[i], in u, v);
                data.Add(in records[i], new FlowContext(v, m, u, true, true));
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
