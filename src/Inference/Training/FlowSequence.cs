// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Inference.Model;

namespace FlowEngine.Inference.Training;

/// <summary>
/// One VM's flows in time order, for training: per flow its normalised feature row and its own observed
/// targets. The model is trained to predict the targets of flow t + 1 from the rows of flows 0..t.
/// </summary>
public sealed class FlowSequence
{
    /// <summary>Creates a sequence; the arrays are kept, not copied.</summary>
    /// <param name="spec">Model shape the sequence is for.</param>
    /// <param name="rows">Feature rows, Length × <see cref="FlowModelSpec.InputWidth"/>, row-major.</param>
    /// <param name="classes">Observed classes, Length × categorical heads (negative: unknown).</param>
    /// <param name="values">Observed values, Length × Gaussian heads (NaN: unknown).</param>
    /// <exception cref="ArgumentException">The arrays disagree on the length, or a class is out of range.</exception>
    public FlowSequence(FlowModelSpec spec, float[] rows, int[] classes, float[] values)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(values);
        if (rows.Length % spec.InputWidth != 0)
        {
            throw new ArgumentException($"{rows.Length} row values is not a multiple of the input width {spec.InputWidth}.", nameof(rows));
        }

        int length = rows.Length / spec.InputWidth;
        int nc = spec.CategoricalHeads.Count, ng = spec.GaussianHeads.Count;
        if (classes.Length != length * nc || values.Length != length * ng)
        {
            throw new ArgumentException($"{length} rows need {length * nc} classes and {length * ng} values, got {classes.Length} and {values.Length}.");
        }

        for (int t = 0; t < length; t++)
        {
            FlowScoring.CheckTargets(spec, classes.AsSpan(t * nc, nc), values.AsSpan(t * ng, ng));
        }

        Length = length;
        Rows = rows;
        Classes = classes;
        Values = values;
    }

    /// <summary>Number of flows.</summary>
    public int Length { get; }

    internal float[] Rows { get; }

    internal int[] Classes { get; }

    internal float[] Values { get; }
}
