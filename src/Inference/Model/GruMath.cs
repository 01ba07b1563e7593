// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using System.Numerics.Tensors;

namespace FlowEngine.Inference.Model;

/// <summary>
/// One GRU step and its heads, forward and backward, for one sample, generic over the float type so that the
/// trainer runs in <see cref="float"/> and the gradient check in <see cref="double"/> through the same code.
/// </summary>
/// <remarks>
/// ONNX GRU with <c>linear_before_reset = 1</c> and the default activations (σ = sigmoid, g = tanh):
/// <code>
/// z  = σ(W_z x + Wb_z + R_z h + Rb_z)
/// r  = σ(W_r x + Wb_r + R_r h + Rb_r)
/// n  = tanh(W_h x + Wb_h + r ⊙ (R_h h + Rb_h))
/// h' = (1 − z) ⊙ n + z ⊙ h
/// o  = Wo h' + bo
/// </code>
/// </remarks>
internal static class GruMath<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Forward step. <paramref name="scratch"/> holds at least 6H elements.</summary>
    /// <param name="p">Parameters in <see cref="ParameterLayout"/> order.</param>
    /// <param name="l">Layout.</param>
    /// <param name="x">Input row [I].</param>
    /// <param name="h">Previous state [H].</param>
    /// <param name="z">Update gate out [H].</param>
    /// <param name="r">Reset gate out [H].</param>
    /// <param name="n">Candidate out [H].</param>
    /// <param name="ghn">R_h h + Rb_h out [H] (needed by the backward pass).</param>
    /// <param name="hNew">New state out [H].</param>
    /// <param name="output">Head outputs [D].</param>
    /// <param name="scratch">Scratch of at least 6H.</param>
    public static void Forward(
        ReadOnlySpan<T> p, in ParameterLayout l, ReadOnlySpan<T> x, ReadOnlySpan<T> h,
        Span<T> z, Span<T> r, Span<T> n, Span<T> ghn, Span<T> hNew, Span<T> output, Span<T> scratch)
    {
        int hs = l.H, ins = l.I;
        Span<T> gx = scratch[..(3 * hs)];
        Span<T> gh = scratch.Slice(3 * hs, 3 * hs);
        ReadOnlySpan<T> w = p.Slice(l.W, 3 * hs * ins);
        ReadOnlySpan<T> rw = p.Slice(l.R, 3 * hs * hs);
        ReadOnlySpan<T> wb = p.Slice(l.Wb, 3 * hs);
        ReadOnlySpan<T> rb = p.Slice(l.Rb, 3 * hs);
        for (int j = 0; j < 3 * hs; j++)
        {
            gx[j] = TensorPrimitives.Dot(w.Slice(j * ins, ins), x) + wb[j];
            gh[j] = TensorPrimitives.Dot(rw.Slice(j * hs, hs), h) + rb[j];
        }

        TensorPrimitives.Add(gx[..hs], gh[..hs], z);
        TensorPrimitives.Sigmoid(z, z);
        TensorPrimitives.Add(gx.Slice(hs, hs), gh.Slice(hs, hs), r);
        TensorPrimitives.Sigmoid(r, r);
        gh.Slice(2 * hs, hs).CopyTo(ghn);
        TensorPrimitives.MultiplyAdd(r, ghn, gx.Slice(2 * hs, hs), n);
        TensorPrimitives.Tanh(n, n);
        for (int k = 0; k < hs; k++)
        {
            hNew[k] = ((T.One - z[k]) * n[k]) + (z[k] * h[k]);
        }

        Heads(p, l, hNew, output);
    }

    /// <summary>Head outputs o = Wo h + bo.</summary>
    /// <param name="p">Parameters.</param>
    /// <param name="l">Layout.</param>
    /// <param name="h">State [H].</param>
    /// <param name="output">Outputs [D].</param>
    public static void Heads(ReadOnlySpan<T> p, in ParameterLayout l, ReadOnlySpan<T> h, Span<T> output)
    {
        ReadOnlySpan<T> wo = p.Slice(l.Wo, l.D * l.H);
        ReadOnlySpan<T> bo = p.Slice(l.Bo, l.D);
        for (int k = 0; k < l.D; k++)
        {
            output[k] = TensorPrimitives.Dot(wo.Slice(k * l.H, l.H), h) + bo[k];
        }
    }

    /// <summary>
    /// Backward step: accumulates parameter gradients into <paramref name="g"/> and writes the gradient with
    /// respect to the previous state into <paramref name="dhPrev"/>. <paramref name="scratch"/> holds at least 7H.
    /// </summary>
    /// <param name="p">Parameters.</param>
    /// <param name="g">Gradient accumulator, same layout as <paramref name="p"/>.</param>
    /// <param name="l">Layout.</param>
    /// <param name="x">Input row of the step.</param>
    /// <param name="h">Previous state of the step.</param>
    /// <param name="z">Update gate of the step.</param>
    /// <param name="r">Reset gate of the step.</param>
    /// <param name="n">Candidate of the step.</param>
    /// <param name="ghn">R_h h + Rb_h of the step.</param>
    /// <param name="hNew">New state of the step.</param>
    /// <param name="dOut">Gradient of the loss with respect to the step's head outputs.</param>
    /// <param name="dhNext">Gradient with respect to the new state from later steps.</param>
    /// <param name="dhPrev">Out: gradient with respect to the previous state.</param>
    /// <param name="scratch">Scratch of at least 7H.</param>
    public static void Backward(
        ReadOnlySpan<T> p, Span<T> g, in ParameterLayout l, ReadOnlySpan<T> x, ReadOnlySpan<T> h,
        ReadOnlySpan<T> z, ReadOnlySpan<T> r, ReadOnlySpan<T> n, ReadOnlySpan<T> ghn, ReadOnlySpan<T> hNew,
        ReadOnlySpan<T> dOut, ReadOnlySpan<T> dhNext, Span<T> dhPrev, Span<T> scratch)
    {
        int hs = l.H, ins = l.I;
        Span<T> dH = scratch[..hs];
        Span<T> dgx = scratch.Slice(hs, 3 * hs);
        Span<T> dgh = scratch.Slice(4 * hs, 3 * hs);
        dhNext.CopyTo(dH);

        ReadOnlySpan<T> wo = p.Slice(l.Wo, l.D * hs);
        Span<T> gwo = g.Slice(l.Wo, l.D * hs);
        for (int k = 0; k < l.D; k++)
        {
            T d = dOut[k];
            if (d == T.Zero)
            {
                continue;
            }

            TensorPrimitives.MultiplyAdd(wo.Slice(k * hs, hs), d, dH, dH);
            Span<T> row = gwo.Slice(k * hs, hs);
            TensorPrimitives.MultiplyAdd(hNew, d, row, row);
        }

        Span<T> gbo = g.Slice(l.Bo, l.D);
        TensorPrimitives.Add(gbo, dOut, gbo);

        for (int k = 0; k < hs; k++)
        {
            T dh = dH[k];
            T zk = z[k], rk = r[k], nk = n[k];
            T dn = dh * (T.One - zk);
            T dz = dh * (h[k] - nk);
            dhPrev[k] = dh * zk;
            T dan = dn * (T.One - (nk * nk));
            T dar = dan * ghn[k] * rk * (T.One - rk);
            T daz = dz * zk * (T.One - zk);
            dgx[k] = daz;
            dgx[hs + k] = dar;
            dgx[(2 * hs) + k] = dan;
            dgh[k] = daz;
            dgh[hs + k] = dar;
            dgh[(2 * hs) + k] = dan * rk;
        }

        ReadOnlySpan<T> rw = p.Slice(l.R, 3 * hs * hs);
        Span<T> gw = g.Slice(l.W, 3 * hs * ins);
        Span<T> gr = g.Slice(l.R, 3 * hs * hs);
        for (int j = 0; j < 3 * hs; j++)
        {
            Span<T> wrow = gw.Slice(j * ins, ins);
            TensorPrimitives.MultiplyAdd(x, dgx[j], wrow, wrow);
            Span<T> rrow = gr.Slice(j * hs, hs);
            TensorPrimitives.MultiplyAdd(h, dgh[j], rrow, rrow);
            TensorPrimitives.MultiplyAdd(rw.Slice(j * hs, hs), dgh[j], dhPrev, dhPrev);
        }

        Span<T> gwb = g.Slice(l.Wb, 3 * hs);
        TensorPrimitives.Add(gwb, dgx, gwb);
        Span<T> grb = g.Slice(l.Rb, 3 * hs);
        TensorPrimitives.Add(grb, dgh, grb);
    }
}

/// <summary>
/// Negative log-likelihood of observed next-flow targets under the head outputs, per head, with its gradient.
/// The score and the training loss are this one function.
/// </summary>
internal static class HeadLoss<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T s_halfLog2Pi = T.CreateChecked(0.5 * Math.Log(2 * Math.PI));
    private static readonly T s_varianceFloor = T.CreateChecked(FlowScoring.VarianceFloor);
    private static readonly T s_half = T.CreateChecked(0.5);

    /// <summary>Computes the per-head NLL; returns the total and how many heads had a known target.</summary>
    /// <param name="spec">Model shape.</param>
    /// <param name="output">Head outputs [D].</param>
    /// <param name="classes">Observed class per categorical head; negative means unknown.</param>
    /// <param name="values">Observed value per Gaussian head; NaN means unknown.</param>
    /// <param name="dOut">Gradient out [D], or empty for none.</param>
    /// <param name="components">Per-head NLL out [heads], or empty; 0 for an unknown target.</param>
    /// <param name="known">Out: number of heads with a known target.</param>
    /// <returns>The total NLL over the known heads.</returns>
    public static T Compute(
        FlowModelSpec spec, ReadOnlySpan<T> output, ReadOnlySpan<int> classes, ReadOnlySpan<T> values,
        Span<T> dOut, Span<T> components, out int known)
    {
        bool grad = !dOut.IsEmpty;
        if (grad)
        {
            dOut.Clear();
        }

        known = 0;
        T total = T.Zero;
        IReadOnlyList<CategoricalHead> heads = spec.CategoricalHeads;
        for (int i = 0; i < heads.Count; i++)
        {
            int k = heads[i].Classes;
            int off = spec.LogitsOffset(i);
            int y = classes[i];
            T nll = T.Zero;
            if (y >= 0)
            {
                ReadOnlySpan<T> logits = output.Slice(off, k);
                T max = TensorPrimitives.Max(logits);
                T sum = T.Zero;
                for (int c = 0; c < k; c++)
                {
                    sum += T.Exp(logits[c] - max);
                }

                T lse = max + T.Log(sum);
                int yc = Math.Min(y, k - 1);
                nll = lse - logits[yc];
                if (grad)
                {
                    Span<T> d = dOut.Slice(off, k);
                    for (int c = 0; c < k; c++)
                    {
                        d[c] = T.Exp(logits[c] - lse);
                    }

                    d[yc] -= T.One;
                }

                total += nll;
                known++;
            }

            if (!components.IsEmpty)
            {
                components[i] = nll;
            }
        }

        for (int i = 0; i < spec.GaussianHeads.Count; i++)
        {
            int off = spec.GaussianOffset(i);
            T y = values[i];
            T nll = T.Zero;
            if (!T.IsNaN(y))
            {
                T mean = output[off];
                T ev = T.Exp(output[off + 1]);
                T v = ev + s_varianceFloor;
                T diff = y - mean;
                T q = diff * diff / v;
                nll = s_halfLog2Pi + (s_half * (T.Log(v) + q));
                if (grad)
                {
                    dOut[off] = -diff / v;
                    dOut[off + 1] = s_half * ((T.One - q) / v) * ev;
                }

                total += nll;
                known++;
            }

            if (!components.IsEmpty)
            {
                components[heads.Count + i] = nll;
            }
        }

        return total;
    }
}
