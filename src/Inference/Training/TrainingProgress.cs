// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Training;

/// <summary>Progress of <see cref="FlowTrainer.Train"/>, reported after every epoch.</summary>
/// <param name="Epoch">Epochs completed (1-based).</param>
/// <param name="MaxEpochs">Upper bound on epochs.</param>
/// <param name="Updates">Parameter updates so far.</param>
/// <param name="TrainLoss">Mean NLL per flow over the epoch's training windows, in nats.</param>
/// <param name="ValidationLoss">Mean NLL per flow on the held-out sequences after the epoch (NaN when none are held out).</param>
/// <param name="BestValidationLoss">Best held-out loss so far.</param>
/// <param name="BestEpoch">Epoch of the best held-out loss.</param>
/// <param name="Elapsed">Time since training started.</param>
public readonly record struct TrainingProgress(
    int Epoch, int MaxEpochs, long Updates, double TrainLoss, double ValidationLoss, double BestValidationLoss, int BestEpoch, TimeSpan Elapsed);

/// <summary>Result of <see cref="FlowTrainer.Train"/>.</summary>
/// <param name="Weights">The weights of the epoch with the best held-out loss (the last epoch when nothing is held out).</param>
/// <param name="Epochs">Epochs run.</param>
/// <param name="BestEpoch">Epoch whose weights were kept.</param>
/// <param name="BestValidationLoss">Held-out mean NLL per flow of the kept weights.</param>
/// <param name="Updates">Parameter updates made.</param>
/// <param name="TrainingSteps">Sequence steps run forward and backward (held-out evaluation not counted).</param>
/// <param name="Elapsed">Training time.</param>
public sealed record TrainingResult(
    Model.FlowModelWeights Weights, int Epochs, int BestEpoch, double BestValidationLoss, long Updates, long TrainingSteps, TimeSpan Elapsed);
