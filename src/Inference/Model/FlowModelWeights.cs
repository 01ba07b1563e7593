// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;

namespace FlowEngine.Inference.Model;

/// <summary>
/// The parameters of a flow model, in one flat vector in ONNX layout: W [3H, I] and R [3H, H] with gate
/// blocks in the order z, r, h; Wb [3H]; Rb [3H]; the head weight Wo [D, H]; the head bias bo [D].
/// </summary>
public sealed class FlowModelWeights
{
    private readonly float[] _parameters;

    /// <summary>Wraps a copy of <paramref name="parameters"/>.</summary>
    /// <param name="spec">Model shape.</param>
    /// <param name="parameters">Parameters, <see cref="FlowModelSpec.ParameterCount"/> long.</param>
    /// <exception cref="ArgumentException">The length does not match the spec.</exception>
    public FlowModelWeights(FlowModelSpec spec, ReadOnlySpan<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (parameters.Length != spec.ParameterCount)
        {
            throw new ArgumentException($"Expected {spec.ParameterCount} parameters for {spec}, got {parameters.Length}.", nameof(parameters));
        }

        Spec = spec;
        _parameters = parameters.ToArray();
    }

    /// <summary>Model shape.</summary>
    public FlowModelSpec Spec { get; }

    /// <summary>All parameters, in the layout described on the type.</summary>
    public ReadOnlySpan<float> Parameters => _parameters;

    internal ParameterLayout Layout => ParameterLayout.For(Spec);

    internal float[] Array => _parameters;

    /// <summary>
    /// Random initial weights: GRU weights and biases uniform in ±1/√H, head weights uniform in ±1/√H,
    /// head biases 0. The same seed gives the same weights.
    /// </summary>
    /// <param name="spec">Model shape.</param>
    /// <param name="seed">Seed of the generator.</param>
    /// <returns>The weights.</returns>
    public static FlowModelWeights Initialize(FlowModelSpec spec, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = new float[spec.ParameterCount];
        InitializeInto(spec, new Random(seed), p);
        return new FlowModelWeights(spec, p);
    }

    /// <summary>
    /// The trainer's forward pass for one sample: the GRU step and the heads. It is the reference the exported
    /// ONNX graph is tested against, and a scorer that needs no ONNX Runtime.
    /// </summary>
    /// <param name="x">Feature row, <see cref="FlowModelSpec.InputWidth"/> wide.</param>
    /// <param name="h">Previous hidden state, <see cref="FlowModelSpec.HiddenSize"/> wide.</param>
    /// <param name="hNew">New hidden state out; may not overlap <paramref name="h"/>.</param>
    /// <param name="outputs">Head outputs out, <see cref="FlowModelSpec.OutputWidth"/> wide.</param>
    public void Step(ReadOnlySpan<float> x, ReadOnlySpan<float> h, Span<float> hNew, Span<float> outputs)
    {
        int hs = Spec.HiddenSize;
        if (x.Length != Spec.InputWidth || h.Length != hs || hNew.Length != hs || outputs.Length != Spec.OutputWidth)
        {
            throw new ArgumentException($"Spans do not match the model ({Spec}).");
        }

        float[] scratch = ArrayPool<float>.Shared.Rent(10 * hs);
        try
        {
            Span<float> s = scratch;
            GruMath<float>.Forward(_parameters, Layout, x, h, s[..hs], s.Slice(hs, hs), s.Slice(2 * hs, hs), s.Slice(3 * hs, hs), hNew, outputs, s[(4 * hs)..]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    internal static void InitializeInto<T>(FlowModelSpec spec, Random random, Span<T> p)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        ParameterLayout l = ParameterLayout.For(spec);
        double bound = 1.0 / Math.Sqrt(spec.HiddenSize);
        for (int i = 0; i < l.Bo; i++)
        {
            p[i] = T.CreateChecked(((random.NextDouble() * 2) - 1) * bound);
        }

        p[l.Bo..].Clear();
    }
}
