// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Inference.Model;
using FlowEngine.Inference.Training;

namespace FlowEngine.Inference.Tests.Infrastructure;

internal static class TestModels
{
    public static FlowModelSpec Tiny() => new(3, 4, [new CategoricalHead("a", 3), new CategoricalHead("b", 2)], ["g1", "g2"]);

    public static FlowModelSpec Small() => new(7, 12, [new CategoricalHead("dst", 9), new CategoricalHead("port", 5)], ["log_bytes", "log_gap"]);

    /// <summary>Weights with every parameter uniform in ±<paramref name="scale"/> (biases too), so every gate is exercised.</summary>
    public static FlowModelWeights RandomWeights(FlowModelSpec spec, int seed, double scale = 0.5)
    {
        var random = new Random(seed);
        float[] p = new float[spec.ParameterCount];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (float)(((random.NextDouble() * 2) - 1) * scale);
        }

        return new FlowModelWeights(spec, p);
    }

    /// <summary>Random sequences with some unknown targets (class -1, value NaN).</summary>
    public static FlowSequence[] RandomSequences(FlowModelSpec spec, int seed, params int[] lengths)
    {
        var random = new Random(seed);
        int nc = spec.CategoricalHeads.Count, ng = spec.GaussianHeads.Count;
        return lengths.Select(n =>
        {
            float[] rows = new float[n * spec.InputWidth];
            int[] classes = new int[n * nc];
            float[] values = new float[n * ng];
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i] = (float)((random.NextDouble() * 2) - 1);
            }

            for (int t = 0; t < n; t++)
            {
                for (int c = 0; c < nc; c++)
                {
                    classes[(t * nc) + c] = random.Next(10) == 0 ? -1 : random.Next(spec.CategoricalHeads[c].Classes);
                }

                for (int g = 0; g < ng; g++)
                {
                    values[(t * ng) + g] = random.Next(10) == 0 ? float.NaN : (float)((random.NextDouble() * 4) - 2);
                }
            }

            return new FlowSequence(spec, rows, classes, values);
        }).ToArray();
    }

    public static SequenceData<T> ToData<T>(FlowSequence s)
        where T : System.Numerics.IFloatingPointIeee754<T> =>
        new(s.Rows.Select(T.CreateChecked).ToArray(), s.Classes, s.Values.Select(T.CreateChecked).ToArray(), s.Length);
}
