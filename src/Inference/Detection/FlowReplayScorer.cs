// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Inference.Features;
using FlowEngine.Inference.Model;
using FlowEngine.Inference.Onnx;
using FlowEngine.Inference.Thresholds;

namespace FlowEngine.Inference.Detection;

/// <summary>
/// Scores a captured or archived <see cref="FlowDataset"/> with an ONNX flow model, as the live sensor would: every
/// VM's flows in global start-time order, each scored against the prediction its VM's previous step made, then
/// stepped through the model (consecutive flows of distinct VMs share one ONNX Runtime run), and judged by that VM's
/// own adaptive threshold (<see cref="SpotThreshold"/>, with the model's default while the VM calibrates).
/// </summary>
public sealed class FlowReplayScorer
{
    private readonly FlowModel _model;
    private readonly FeatureNormalizer _normalizer;

    /// <summary>A scorer for <paramref name="model"/>.</summary>
    /// <param name="model">A model of the current feature schema.</param>
    /// <param name="options">Threshold settings; defaults when null.</param>
    public FlowReplayScorer(FlowModel model, FlowThresholdOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Spec.InputWidth != FeatureSchema.Width || model.Metadata.FeatureSchemaVersion != FeatureSchema.Version)
        {
            throw new ArgumentException($"{model.Source}: feature schema {model.Metadata.FeatureSchemaVersion} with {model.Spec.InputWidth} inputs; this FlowEngine assembles schema {FeatureSchema.Version} with {FeatureSchema.Width}", nameof(model));
        }

        _model = model;
        _normalizer = new FeatureNormalizer([.. model.Metadata.InputMean], [.. model.Metadata.InputStd]);
        Options = options ?? new FlowThresholdOptions();
        Options.Validate();
    }

    /// <summary>Threshold settings.</summary>
    public FlowThresholdOptions Options { get; }

    private static HeadEvidence[] Evidence(FlowModelSpec spec, ReadOnlySpan<float> prediction, ReadOnlySpan<int> classes, ReadOnlySpan<float> values, ReadOnlySpan<float> components)
    {
        var evidence = new HeadEvidence[spec.HeadCount];
        Span<float> p = stackalloc float[spec.CategoricalHeads.Max(h => h.Classes)];
        for (int h = 0; h < spec.CategoricalHeads.Count; h++)
        {
            int k = spec.CategoricalHeads[h].Classes;
            FlowScoring.Probabilities(spec, prediction, h, p);
            int observed = classes[h], best = 0, rank = 1;
            for (int c = 1; c < k; c++)
            {
                best = p[c] > p[best] ? c : best;
            }

            float po = observed >= 0 ? p[observed] : float.NaN;
            for (int c = 0; observed >= 0 && c < k; c++)
            {
                rank += p[c] > po ? 1 : 0;
            }

            evidence[h] = new HeadEvidence(spec.HeadName(h), components[h], observed, best, po, observed >= 0 ? rank : 0);
        }

        for (int g = 0; g < spec.GaussianHeads.Count; g++)
        {
            int h = spec.CategoricalHeads.Count + g;
            evidence[h] = new HeadEvidence(spec.HeadName(h), components[h], values[g], prediction[spec.GaussianOffset(g)], float.NaN, 0);
        }

        return evidence;
    }

    /// <summary>Scores every flow of every VM.</summary>
    /// <param name="data">The flows.</param>
    /// <returns>One score per flow row, in global start-time order (a VM's first flow has no score: <see cref="FlowScore.Scored"/> false).</returns>
    public IReadOnlyList<FlowScore> Score(FlowDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        IReadOnlyList<VmFlowSequence> sequences = data.Sequences();
        foreach (VmFlowSequence s in sequences)
        {
            _normalizer.Normalize(s.Rows);
        }

        FlowModelSpec spec = _model.Spec;
        int nc = spec.CategoricalHeads.Count, ng = spec.GaussianHeads.Count, width = spec.InputWidth;
        const int maxBatch = 64;
        using var scorer = new OnnxFlowScorer(_model, Math.Max(1, sequences.Count), maxBatch);
        SpotThreshold[] thresholds = [.. sequences.Select(_ => new SpotThreshold(Options.Risk, Options.Calibration, Options.InitialQuantile, _model.Metadata.DefaultThreshold))];

        // Merge the VMs' sequences by start time.
        var order = new List<(long Start, int Vm, int T)>(data.Rows);
        for (int v = 0; v < sequences.Count; v++)
        {
            for (int t = 0; t < sequences[v].Length; t++)
            {
                order.Add((sequences[v].StartNs[t], v, t));
            }
        }

        order.Sort();
        var results = new List<FlowScore>(order.Count);
        var batchVms = new List<int>(maxBatch);
        var batchItems = new List<(int Vm, int T)>(maxBatch);
        float[] components = new float[spec.HeadCount];
        void Flush()
        {
            if (batchVms.Count == 0)
            {
                return;
            }

            Span<float> rows = scorer.InputRows(batchVms.Count);
            for (int i = 0; i < batchItems.Count; i++)
            {
                (int v, int t) = batchItems[i];
                sequences[v].Rows.AsSpan(t * width, width).CopyTo(rows.Slice(i * width, width));
            }

            scorer.Step(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batchVms));
            batchVms.Clear();
            batchItems.Clear();
        }

        foreach ((_, int vm, int t) in order)
        {
            if (batchVms.Contains(vm) || batchVms.Count == maxBatch)
            {
                // This VM's previous flow must be stepped before this one is scored.
                Flush();
            }

            VmFlowSequence s = sequences[vm];
            float score = scorer.Score(vm, s.Classes.AsSpan(t * nc, nc), s.Values.AsSpan(t * ng, ng), components);
            bool scored = !float.IsNaN(score);
            HeadEvidence[] evidence = scored ? Evidence(spec, scorer.Prediction(vm), s.Classes.AsSpan(t * nc, nc), s.Values.AsSpan(t * ng, ng), components) : [];
            bool calibrating = !thresholds[vm].IsCalibrated;
            double threshold = thresholds[vm].Threshold;
            bool alert = scored && thresholds[vm].Update(score);
            results.Add(new FlowScore(s.Vm, s.Records[t], s.Perspectives[t], scored, score, evidence, threshold, alert, calibrating));
            batchVms.Add(vm);
            batchItems.Add((vm, t));
        }

        Flush();
        return results;
    }
}

/// <summary>What one head predicted against what the flow was.</summary>
/// <param name="Head">The head's name.</param>
/// <param name="Nll">Its part of the score, nats.</param>
/// <param name="Observed">The observed class (categorical; -1 unknown) or value (Gaussian; NaN unknown).</param>
/// <param name="Predicted">The most likely class, or the predicted mean.</param>
/// <param name="Probability">Categorical: the probability given to the observed class (NaN for Gaussian heads).</param>
/// <param name="Rank">Categorical: the observed class's rank among the predictions, 1 = most likely (0 for Gaussian heads).</param>
public readonly record struct HeadEvidence(string Head, float Nll, double Observed, double Predicted, float Probability, int Rank);

/// <summary>Settings of the per-VM adaptive thresholds (docs/model.md).</summary>
public sealed record FlowThresholdOptions
{
    /// <summary>Probability of a normal flow's score exceeding its VM's threshold. Default 1e-3.</summary>
    public double Risk { get; init; } = 1e-3;

    /// <summary>A VM's scored flows before its own threshold exists (the model's default threshold applies until then). Default 64.</summary>
    public int Calibration { get; init; } = 64;

    /// <summary>Quantile of the calibration scores above which the tail is modelled. Default 0.95.</summary>
    public double InitialQuantile { get; init; } = 0.95;

    /// <summary>Checks the settings against <see cref="Thresholds.SpotThreshold"/>'s ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of range.</exception>
    public void Validate() => _ = new Thresholds.SpotThreshold(Risk, Calibration, InitialQuantile);
}

/// <summary>One flow's deviation score for one of its VMs.</summary>
/// <param name="Vm">The VM whose sequence the flow is in.</param>
/// <param name="Record">The flow.</param>
/// <param name="Perspective">Whether the VM originated or answered it.</param>
/// <param name="Scored">False for the VM's first flow (no prediction yet).</param>
/// <param name="Score">NLL in nats under the prediction before it (NaN when not scored).</param>
/// <param name="Evidence">Per head, in the model's head order: its NLL, the observed and the predicted (empty when not scored).</param>
/// <param name="Threshold">The VM's threshold when the flow arrived.</param>
/// <param name="Alert">The score was above it.</param>
/// <param name="Calibrating">The VM's own threshold did not exist yet (the model's default applied).</param>
public sealed record FlowScore(string Vm, FlowRecord Record, FlowPerspective Perspective, bool Scored, float Score, HeadEvidence[] Evidence, double Threshold, bool Alert, bool Calibrating);
