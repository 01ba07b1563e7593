// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Model;

/// <summary>
/// Deviation score of an observed flow: its negative log-likelihood (in nats) under the prediction the model
/// made at the VM's step before it, with one component per head. The trainer minimises the same quantity.
/// </summary>
/// <remarks>
/// Categorical head: <c>−log softmax(logits)[y]</c>. Gaussian head over a value y with outputs (μ, s):
/// <c>v = exp(s) + VarianceFloor</c>, <c>½ log 2π + ½ log v + (y − μ)² / 2v</c>. An unknown target (a negative
/// class, a NaN value; e.g. the volume at flow start) contributes 0 and is not counted.
/// </remarks>
public static class FlowScoring
{
    /// <summary>Variance added to every Gaussian head's exp(logvar), so that a head cannot become infinitely sure.</summary>
    public const double VarianceFloor = 1e-2;

    /// <summary>Scores observed targets against one step's head outputs.</summary>
    /// <param name="spec">Model shape.</param>
    /// <param name="outputs">Head outputs of the step before the flow, <see cref="FlowModelSpec.OutputWidth"/> wide.</param>
    /// <param name="classes">Observed class per categorical head (negative: unknown).</param>
    /// <param name="values">Observed value per Gaussian head (NaN: unknown).</param>
    /// <param name="components">Per-head NLL out, <see cref="FlowModelSpec.HeadCount"/> wide, or empty.</param>
    /// <returns>The total NLL over the heads with a known target.</returns>
    /// <exception cref="ArgumentException">A span has the wrong length or a class is out of range.</exception>
    public static float Score(FlowModelSpec spec, ReadOnlySpan<float> outputs, ReadOnlySpan<int> classes, ReadOnlySpan<float> values, Span<float> components)
    {
        ArgumentNullException.ThrowIfNull(spec);
        CheckTargets(spec, classes, values);
        if (outputs.Length != spec.OutputWidth)
        {
            throw new ArgumentException($"Expected {spec.OutputWidth} outputs, got {outputs.Length}.", nameof(outputs));
        }

        if (!components.IsEmpty && components.Length != spec.HeadCount)
        {
            throw new ArgumentException($"Expected {spec.HeadCount} components, got {components.Length}.", nameof(components));
        }

        return HeadLoss<float>.Compute(spec, outputs, classes, values, default, components, out _);
    }

    /// <summary>Writes the probabilities of categorical head <paramref name="head"/> (softmax of its logits).</summary>
    /// <param name="spec">Model shape.</param>
    /// <param name="outputs">Head outputs of one step.</param>
    /// <param name="head">Categorical head index.</param>
    /// <param name="probabilities">Out, that head's class count wide.</param>
    public static void Probabilities(FlowModelSpec spec, ReadOnlySpan<float> outputs, int head, Span<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int k = spec.CategoricalHeads[head].Classes;
        System.Numerics.Tensors.TensorPrimitives.SoftMax(outputs.Slice(spec.LogitsOffset(head), k), probabilities[..k]);
    }

    internal static void CheckTargets(FlowModelSpec spec, ReadOnlySpan<int> classes, ReadOnlySpan<float> values)
    {
        if (classes.Length != spec.CategoricalHeads.Count)
        {
            throw new ArgumentException($"Expected {spec.CategoricalHeads.Count} classes, got {classes.Length}.", nameof(classes));
        }

        if (values.Length != spec.GaussianHeads.Count)
        {
            throw new ArgumentException($"Expected {spec.GaussianHeads.Count} values, got {values.Length}.", nameof(values));
        }

        for (int i = 0; i < classes.Length; i++)
        {
            if (classes[i] >= spec.CategoricalHeads[i].Classes)
            {
                throw new ArgumentException(
                    $"Class {classes[i]} of head '{spec.CategoricalHeads[i].Name}' is out of range 0..{spec.CategoricalHeads[i].Classes - 1}.", nameof(classes));
            }
        }
    }
}
