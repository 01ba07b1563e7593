// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using FlowEngine.Inference.Model;

namespace FlowEngine.Inference.Training;

/// <summary>A sequence in the trainer's float type: rows, classes and values as in <see cref="FlowSequence"/>.</summary>
internal readonly record struct SequenceData<T>(T[] Rows, int[] Classes, T[] Values, int Length);

/// <summary>
/// Truncated back-propagation through time over a minibatch of sequences: runs a window of steps forward,
/// keeping what the backward pass needs, adds up the NLL of each step's prediction of the next flow, and
/// back-propagates from the window's end to its start. The hidden state carries over to the next window.
/// </summary>
internal sealed class GruWindow<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly FlowModelSpec _spec;
    private readonly ParameterLayout _l;
    private readonly int _maxBatch;
    private readonly int _window;
    private readonly T[] _h;
    private readonly T[] _hPrev, _z, _r, _n, _ghn, _hNew, _out, _dOut;
    private readonly T[] _dh, _dhPrev, _scratch;

    public GruWindow(FlowModelSpec spec, int maxBatch, int window)
    {
        _spec = spec;
        _l = ParameterLayout.For(spec);
        _maxBatch = maxBatch;
        _window = window;
        int bh = maxBatch * spec.HiddenSize;
        int size = window * bh;
        _h = new T[bh];
        _hPrev = new T[size];
        _z = new T[size];
        _r = new T[size];
        _n = new T[size];
        _ghn = new T[size];
        _hNew = new T[size];
        _out = new T[window * maxBatch * spec.OutputWidth];
        _dOut = new T[window * maxBatch * spec.OutputWidth];
        _dh = new T[bh];
        _dhPrev = new T[bh];
        _scratch = new T[7 * spec.HiddenSize];
    }

    /// <summary>Zeroes the hidden state of every sequence (the start of a new minibatch).</summary>
    public void Reset() => Array.Clear(_h);

    /// <summary>
    /// Runs steps <paramref name="t0"/> .. <paramref name="t0"/> + <paramref name="steps"/> − 1 of each sequence of
    /// the batch that is that long, and, when <paramref name="grad"/> is not empty, adds the gradient of the summed
    /// NLL into it. Returns the summed NLL and, in <paramref name="flows"/>, the number of predictions scored.
    /// </summary>
    public T Run(ReadOnlySpan<T> p, Span<T> grad, ReadOnlySpan<SequenceData<T>> batch, int t0, int steps, out int flows)
    {
        if (batch.Length > _maxBatch || steps > _window)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), "Batch or window larger than allocated.");
        }

        int hs = _spec.HiddenSize, ins = _spec.InputWidth, d = _spec.OutputWidth;
        int nc = _spec.CategoricalHeads.Count, ng = _spec.GaussianHeads.Count;
        bool backward = !grad.IsEmpty;
        T loss = T.Zero;
        flows = 0;
        for (int s = 0; s < steps; s++)
        {
            int t = t0 + s;
            for (int b = 0; b < batch.Length; b++)
            {
                SequenceData<T> q = batch[b];
                if (t >= q.Length)
                {
                    continue;
                }

                int c = ((s * _maxBatch) + b) * hs;
                int o = ((s * _maxBatch) + b) * d;
                Span<T> h = _h.AsSpan(b * hs, hs);
                h.CopyTo(_hPrev.AsSpan(c, hs));
                Span<T> hNew = _hNew.AsSpan(c, hs);
                GruMath<T>.Forward(
                    p, _l, q.Rows.AsSpan(t * ins, ins), h, _z.AsSpan(c, hs), _r.AsSpan(c, hs), _n.AsSpan(c, hs), _ghn.AsSpan(c, hs),
                    hNew, _out.AsSpan(o, d), _scratch);
                hNew.CopyTo(h);
                Span<T> dOut = _dOut.AsSpan(o, d);
                if (t + 1 < q.Length)
                {
                    loss += HeadLoss<T>.Compute(
                        _spec, _out.AsSpan(o, d), q.Classes.AsSpan((t + 1) * nc, nc), q.Values.AsSpan((t + 1) * ng, ng),
                        backward ? dOut : default, default, out int known);
                    if (known > 0)
                    {
                        flows++;
                    }
                }
                else if (backward)
                {
                    dOut.Clear();
                }
            }
        }

        if (!backward)
        {
            return loss;
        }

        Array.Clear(_dh);
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = t0 + s;
            for (int b = 0; b < batch.Length; b++)
            {
                SequenceData<T> q = batch[b];
                if (t >= q.Length)
                {
                    continue;
                }

                int c = ((s * _maxBatch) + b) * hs;
                int o = ((s * _maxBatch) + b) * d;
                Span<T> dh = _dh.AsSpan(b * hs, hs);
                Span<T> dhPrev = _dhPrev.AsSpan(b * hs, hs);
                GruMath<T>.Backward(
                    p, grad, _l, q.Rows.AsSpan(t * ins, ins), _hPrev.AsSpan(c, hs), _z.AsSpan(c, hs), _r.AsSpan(c, hs), _n.AsSpan(c, hs),
                    _ghn.AsSpan(c, hs), _hNew.AsSpan(c, hs), _dOut.AsSpan(o, d), dh, dhPrev, _scratch);
                dhPrev.CopyTo(dh);
            }
        }

        return loss;
    }
}
