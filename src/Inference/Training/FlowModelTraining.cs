// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Inference.Features;
using FlowEngine.Inference.Model;

namespace FlowEngine.Inference.Training;

/// <summary>
/// Trains the flow model on a <see cref="FlowDataset"/>: fits the normalisation, trains, and sets the model's default
/// thresholds from its own scores on the training flows (a quantile of the total and of each head), all carried in the
/// model's metadata with the feature schema version.
/// </summary>
public static class FlowModelTraining
{
    /// <summary>The model shape for the current feature schema.</summary>
    /// <param name="hiddenSize">GRU state size.</param>
    /// <returns>The spec.</returns>
    public static FlowModelSpec Spec(int hiddenSize) =>
        new(FeatureSchema.Width, hiddenSize, FeatureSchema.CategoricalHeads.Select(h => new CategoricalHead(h.Name, h.Classes)), FeatureSchema.GaussianHeads);

    /// <summary>Trains a model.</summary>
    /// <param name="data">The flows.</param>
    /// <param name="hiddenSize">GRU state size.</param>
    /// <param name="options">Trainer settings.</param>
    /// <param name="thresholdQuantile">Quantile of the training scores taken as the default thresholds (0.99 to 0.99999).</param>
    /// <param name="progress">Epoch reports.</param>
    /// <param name="cancellationToken">Stops training early (the best weights so far are kept).</param>
    /// <returns>Weights, metadata, and how training went.</returns>
    public static TrainedFlowModel Train(FlowDataset data, int hiddenSize, FlowTrainerOptions? options = null, double thresholdQuantile = 0.999, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(thresholdQuantile, 0.99);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(thresholdQuantile, 0.99999);
        if (data.Rows < 2)
        {
            throw new ArgumentException($"{data.Rows} flow rows: too few to train on", nameof(data));
        }

        FlowModelSpec spec = Spec(hiddenSize);
        (float[] mean, float[] std) = data.FitNormalization();
        var normalizer = new FeatureNormalizer(mean, std);
        IReadOnlyList<FlowSequence> sequences = data.TrainingSequences(spec, normalizer);
        if (sequences.Count == 0)
        {
            throw new ArgumentException("no VM has two flows or more: nothing to learn a sequence from", nameof(data));
        }

        TrainingResult result = new FlowTrainer(spec, options).Train(sequences, progress, cancellationToken);

        // Thresholds from the model's own scores on every VM's whole sequence.
        var totals = new List<float>();
        var heads = Enumerable.Range(0, spec.HeadCount).Select(_ => new List<float>()).ToArray();
        foreach (VmFlowSequence s in data.Sequences())
        {
            normalizer.Normalize(s.Rows);
            ScoreSequence(result.Weights, s, (total, components) =>
            {
                totals.Add(total);
                for (int h = 0; h < components.Length; h++)
                {
                    heads[h].Add(components[h]);
                }
            });
        }

        float threshold = Quantile(totals, thresholdQuantile);
        var headThresholds = new Dictionary<string, float>(StringComparer.Ordinal);
        for (int h = 0; h < spec.HeadCount; h++)
        {
            headThresholds[spec.HeadName(h)] = Quantile(heads[h], thresholdQuantile);
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["trained_flows"] = data.Rows.ToString(CultureInfo.InvariantCulture),
            ["trained_vms"] = data.VmCount.ToString(CultureInfo.InvariantCulture),
            ["threshold_quantile"] = thresholdQuantile.ToString(CultureInfo.InvariantCulture),
            ["best_validation_nll"] = result.BestValidationLoss.ToString("R", CultureInfo.InvariantCulture),
            ["seed"] = (options ?? new FlowTrainerOptions()).Seed.ToString(CultureInfo.InvariantCulture),
        };
        var metadata = new FlowModelMetadata(FeatureSchema.Version, mean, std, threshold, headThresholds, properties);
        return new TrainedFlowModel(result.Weights, metadata, result, totals.Count);
    }

    /// <summary>
    /// Scores a VM's (normalised) sequence with the reference forward pass: each flow against the prediction made at
    /// the step before it; the VM's first flow has no prediction and is not scored.
    /// </summary>
    /// <param name="weights">The model.</param>
    /// <param name="sequence">The VM's flows, rows normalised.</param>
    /// <param name="scored">Called per scored flow with its total NLL and its components (valid during the call).</param>
    public static void ScoreSequence(FlowModelWeights weights, VmFlowSequence sequence, ScoredFlowHandler scored)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentNullException.ThrowIfNull(scored);
        FlowModelSpec spec = weights.Spec;
        int nc = spec.CategoricalHeads.Count, ng = spec.GaussianHeads.Count;
        float[] h = new float[spec.HiddenSize], hNew = new float[spec.HiddenSize], outputs = new float[spec.OutputWidth], components = new float[spec.HeadCount];
        for (int t = 0; t < sequence.Length; t++)
        {
            if (t > 0)
            {
                float total = FlowScoring.Score(spec, outputs, sequence.Classes.AsSpan(t * nc, nc), sequence.Values.AsSpan(t * ng, ng), components);
                scored(total, components);
            }

            weights.Step(sequence.Rows.AsSpan(t * spec.InputWidth, spec.InputWidth), h, hNew, outputs);
            (h, hNew) = (hNew, h);
        }
    }

    private static float Quantile(List<float> values, double q)
    {
        if (values.Count == 0)
        {
            return float.PositiveInfinity;
        }

        float[] sorted = [.. values.Order()];
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(q * sorted.Length))];
    }
}

/// <summary>Receives one scored flow: its total NLL and the per-head components (valid only during the call).</summary>
/// <param name="total">Total NLL, nats.</param>
/// <param name="components">Per-head NLL.</param>
public delegate void ScoredFlowHandler(float total, ReadOnlySpan<float> components);

/// <summary>A trained flow model.</summary>
/// <param name="Weights">The weights.</param>
/// <param name="Metadata">Schema version, normalisation, thresholds.</param>
/// <param name="Training">How training went.</param>
/// <param name="ScoredFlows">Flows the thresholds were set from.</param>
public sealed record TrainedFlowModel(FlowModelWeights Weights, FlowModelMetadata Metadata, TrainingResult Training, int ScoredFlows);
