// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Training;

/// <summary>Settings of <see cref="FlowTrainer"/>. The defaults suit sequences of a few hundred to a few thousand flows.</summary>
public sealed record FlowTrainerOptions
{
    /// <summary>Seed of weight initialisation, the held-out split and the shuffling: the same seed gives bit-identical weights.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Sequences per minibatch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Steps per truncated back-propagation window; the hidden state carries over windows, the gradient does not.</summary>
    public int WindowLength { get; init; } = 32;

    /// <summary>Adam learning rate.</summary>
    public float LearningRate { get; init; } = 3e-3f;

    /// <summary>Adam β1.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam β2.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam ε.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>Global L2 norm the gradient is clipped to before each update.</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>Upper bound on passes over the training sequences.</summary>
    public int MaxEpochs { get; init; } = 50;

    /// <summary>Epochs without an improvement of the held-out loss before training stops.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Improvement of the held-out loss, in nats per flow, that counts.</summary>
    public float MinImprovement { get; init; } = 1e-4f;

    /// <summary>Fraction of the sequences held out for early stopping (at least one sequence when there are two or more).</summary>
    public double ValidationFraction { get; init; } = 0.1;
}
