// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Lab;

namespace FlowEngine.Benchmarks.Commands;

/// <summary>
/// <c>detect</c>: the detection benchmark. Runs the engine over a labelled capture, feeds every flow record to a
/// detector, and scores its alerts against the labels (per attack type: detected, time to first correct alert,
/// recall, precision, confusion; false alerts per VM-hour). Prints a table, and JSON with <c>--json</c>.
/// </summary>
public static class DetectCommand
{
    private const string Help =
        "usage: detect [--capture FILE] [--labels FILE] [--inventory FILE] [--detector none] [--json FILE]\n" +
        "  defaults: samples/data/lab-small.pcapng with its .labels.csv and .inventory.csv\n" +
        "  --detector none   no detector (the ground truth and the arithmetic only); detectors plug in here\n";

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
        IFlowDetector? detector = detectorName switch
        {
            "none" => null,
            _ => throw new ArgumentException($"Unknown --detector '{detectorName}': available: none."),
        };

        IReadOnlyList<AttackLabel> labels = AttackLabel.ReadCsv(labelsPath);
        int vms = File.ReadAllLines(inventoryPath).Skip(1).Count(l => l.Length > 0);
        var flows = new List<FlowRecord>();
        var alerts = new AlertList();
        using (CaptureFileReader reader = CaptureFile.Open(capture))
        {
            using var pipeline = new FlowPipeline(FlowSink.FromDelegate((in FlowRecord r) =>
            {
                flows.Add(r);
                detector?.OnFlow(in r, alerts);
            }));
            pipeline.Run(reader);
        }

        DetectionReport report = DetectionEvaluator.Evaluate(labels, flows, alerts.Alerts, vms);
        Console.WriteLine($"{capture}: {flows.Count} flows, {labels.Count} labelled attacks, {vms} VMs, detector {detectorName}, {alerts.Alerts.Count} alerts");
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
