// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Numerics.Tensors;
using FlowEngine.Inference.Model;

namespace FlowEngine.Inference.Training;

/// <summary>
/// Trains a <see cref="FlowModelSpec"/> on VMs' flow sequences: truncated back-propagation through time over
/// windows, minibatches of sequences, softmax cross-entropy and Gaussian NLL heads, Adam, clipping by global
/// norm, and early stopping on held-out sequences. Single-threaded and deterministic under
/// <see cref="FlowTrainerOptions.Seed"/>: the same data and seed give bit-identical weights.
/// </summary>
public sealed class FlowTrainer
{
    private readonly FlowModelSpec _spec;
    private readonly FlowTrainerOptions _options;

    /// <summary>Creates a trainer.</summary>
    /// <param name="spec">Model shape.</param>
    /// <param name="options">Settings; defaults when null.</param>
    public FlowTrainer(FlowModelSpec spec, FlowTrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        _spec = spec;
        _options = options ?? new FlowTrainerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.BatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.WindowLength, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxEpochs, 1, nameof(options));
    }

    /// <summary>Trains from freshly initialised weights.</summary>
    /// <param name="sequences">Training sequences (a held-out part is split off by the seed).</param>
    /// <param name="progress">Receives a report after every epoch, on the training thread.</param>
    /// <param name="cancellationToken">Stops training between updates; the best weights so far are returned.</param>
    /// <returns>The kept weights and how training went.</returns>
    public TrainingResult Train(IReadOnlyList<FlowSequence> sequences, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0)
        {
            throw new ArgumentException("No training sequences.", nameof(sequences));
        }

        var stopwatch = Stopwatch.StartNew();
        var random = new Random(_options.Seed);
        int n = _spec.ParameterCount;
        float[] p = new float[n];
        FlowModelWeights.InitializeInto<float>(_spec, random, p);

        int[] order = Enumerable.Range(0, sequences.Count).ToArray();
        random.Shuffle(order);
        int validationCount = sequences.Count < 2 ? 0 : Math.Clamp((int)Math.Round(sequences.Count * _options.ValidationFraction), 1, sequences.Count - 1);
        SequenceData<float>[] validation = order[..validationCount].Select(i => Data(sequences[i])).ToArray();
        SequenceData<float>[] train = order[validationCount..].Select(i => Data(sequences[i])).ToArray();

        int batchSize = Math.Min(_options.BatchSize, Math.Max(train.Length, validation.Length));
        var window = new GruWindow<float>(_spec, batchSize, _options.WindowLength);
        float[] grad = new float[n], m = new float[n], v = new float[n], best = (float[])p.Clone();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, epoch = 0, stale = 0;
        long updates = 0, steps = 0;
        float b1 = _options.Beta1, b2 = _options.Beta2;
        double b1t = 1, b2t = 1;

        while (epoch < _options.MaxEpochs && !cancellationToken.IsCancellationRequested)
        {
            epoch++;
            random.Shuffle(train);
            double epochLoss = 0;
            long epochFlows = 0;
            for (int start = 0; start < train.Length && !cancellationToken.IsCancellationRequested; start += batchSize)
            {
                ReadOnlySpan<SequenceData<float>> batch = train.AsSpan(start, Math.Min(batchSize, train.Length - start));
                int maxLength = MaxLength(batch);
                foreach (SequenceData<float> s in batch)
                {
                    steps += s.Length;
                }

                window.Reset();
                for (int t0 = 0; t0 < maxLength; t0 += _options.WindowLength)
                {
                    Array.Clear(grad);
                    float loss = window.Run(p, grad, batch, t0, Math.Min(_options.WindowLength, maxLength - t0), out int flows);
                    if (flows == 0)
                    {
                        continue;
                    }

                    epochLoss += loss;
                    epochFlows += flows;
                    TensorPrimitives.Multiply(grad, 1f / flows, grad);
                    float norm = TensorPrimitives.Norm(grad);
                    if (norm > _options.ClipNorm)
                    {
                        TensorPrimitives.Multiply(grad, _options.ClipNorm / norm, grad);
                    }

                    updates++;
                    b1t *= b1;
                    b2t *= b2;
                    float lr = (float)(_options.LearningRate * Math.Sqrt(1 - b2t) / (1 - b1t));
                    for (int i = 0; i < n; i++)
                    {
                        float g = grad[i];
                        m[i] = (b1 * m[i]) + ((1 - b1) * g);
                        v[i] = (b2 * v[i]) + ((1 - b2) * g * g);
                        p[i] -= lr * m[i] / (MathF.Sqrt(v[i]) + _options.Epsilon);
                    }
                }
            }

            double validationLoss = validation.Length == 0 ? double.NaN : Evaluate(window, p, validation, batchSize);
            double score = validation.Length == 0 ? epochLoss / Math.Max(1, epochFlows) : validationLoss;
            if (validation.Length == 0 || score < bestLoss - _options.MinImprovement)
            {
                bestLoss = score;
                bestEpoch = epoch;
                Array.Copy(p, best, n);
                stale = 0;
            }
            else
            {
                stale++;
            }

            progress?.Report(new TrainingProgress(
                epoch, _options.MaxEpochs, updates, epochLoss / Math.Max(1, epochFlows), validationLoss, bestLoss, bestEpoch, stopwatch.Elapsed));
            if (stale >= _options.Patience)
            {
                break;
            }
        }

        return new TrainingResult(new FlowModelWeights(_spec, best), epoch, bestEpoch, bestLoss, updates, steps, stopwatch.Elapsed);
    }

    /// <summary>Mean NLL per scored flow of <paramref name="weights"/> on <paramref name="sequences"/> (each from a zero state).</summary>
    /// <param name="weights">Weights to evaluate.</param>
    /// <param name="sequences">Sequences.</param>
    /// <returns>The mean NLL in nats per flow.</returns>
    public double MeanNll(FlowModelWeights weights, IReadOnlyList<FlowSequence> sequences)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(sequences);
        if (!weights.Spec.SameShape(_spec))
        {
            throw new ArgumentException($"Weights are for {weights.Spec}, the trainer for {_spec}.", nameof(weights));
        }

        SequenceData<float>[] data = sequences.Select(Data).ToArray();
        int batchSize = Math.Max(1, Math.Min(_options.BatchSize, data.Length));
        return Evaluate(new GruWindow<float>(_spec, batchSize, _options.WindowLength), weights.Array, data, batchSize);
    }

    private double Evaluate(GruWindow<float> window, float[] p, SequenceData<float>[] data, int batchSize)
    {
        double loss = 0;
        long flows = 0;
        for (int start = 0; start < data.Length; start += batchSize)
        {
            ReadOnlySpan<SequenceData<float>> batch = data.AsSpan(start, Math.Min(batchSize, data.Length - start));
            int maxLength = MaxLength(batch);
            window.Reset();
            for (int t0 = 0; t0 < maxLength; t0 += _options.WindowLength)
            {
                loss += window.Run(p, default, batch, t0, Math.Min(_options.WindowLength, maxLength - t0), out int f);
                flows += f;
            }
        }

        return flows == 0 ? double.NaN : loss / flows;
    }

    private SequenceData<float> Data(FlowSequence s)
    {
        if (s.Rows.Length != s.Length * _spec.InputWidth || s.Classes.Length != s.Length * _spec.CategoricalHeads.Count
            || s.Values.Length != s.Length * _spec.GaussianHeads.Count)
        {
            throw new ArgumentException($"A sequence does not match the model ({_spec}).");
        }

        return new SequenceData<float>(s.Rows, s.Classes, s.Values, s.Length);
    }

    private static int MaxLength(ReadOnlySpan<SequenceData<float>> batch)
    {
        int max = 0;
        foreach (SequenceData<float> s in batch)
        {
            max = Math.Max(max, s.Length);
        }

        return max;
    }
}
