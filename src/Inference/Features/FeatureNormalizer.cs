// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FlowEngine.Inference.Features;

/// <summary>
/// Normalises feature rows in place, <c>y = (x - mean) * (1 / std)</c> per column, with a missing value (NaN) becoming
/// 0, the column's mean: the row's missing-context flags carry the fact. Vector512, Vector256 and Vector128 paths where
/// the hardware has them, and a scalar reference that gives the same bits (tested at every tail length).
/// </summary>
public sealed class FeatureNormalizer
{
    private readonly float[] _mean;
    private readonly float[] _scale;

    /// <summary>A normaliser for rows of <paramref name="mean"/>'s width.</summary>
    /// <param name="mean">Mean per column.</param>
    /// <param name="std">Standard deviation per column (positive, finite).</param>
    /// <exception cref="ArgumentException">Widths differ, or a deviation is not positive and finite.</exception>
    public FeatureNormalizer(ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        if (mean.Length != std.Length || mean.Length == 0)
        {
            throw new ArgumentException($"{mean.Length} means and {std.Length} deviations");
        }

        _mean = mean.ToArray();
        _scale = new float[std.Length];
        for (int i = 0; i < std.Length; i++)
        {
            if (!(std[i] > 0) || !float.IsFinite(std[i]) || !float.IsFinite(mean[i]))
            {
                throw new ArgumentException($"column {i}: mean {mean[i]}, deviation {std[i]}; need finite values and a positive deviation");
            }

            _scale[i] = 1f / std[i];
        }
    }

    /// <summary>Row width.</summary>
    public int Width => _mean.Length;

    /// <summary>Normalises every row of <paramref name="rows"/> (a whole number of rows) in place.</summary>
    /// <param name="rows">Rows, row-major.</param>
    public void Normalize(Span<float> rows)
    {
        if (rows.Length % _mean.Length != 0)
        {
            throw new ArgumentException($"{rows.Length} values is not a whole number of {_mean.Length}-wide rows", nameof(rows));
        }

        for (int r = 0; r < rows.Length; r += _mean.Length)
        {
            NormalizeVector(rows.Slice(r, _mean.Length), _mean, _scale);
        }
    }

    /// <summary>The scalar reference of <see cref="Normalize"/>.</summary>
    /// <param name="rows">Rows, row-major.</param>
    public void NormalizeScalar(Span<float> rows)
    {
        for (int r = 0; r < rows.Length; r += _mean.Length)
        {
            NormalizeScalar(rows.Slice(r, _mean.Length), _mean, _scale, 0);
        }
    }

    internal static void NormalizeVector(Span<float> row, ReadOnlySpan<float> mean, ReadOnlySpan<float> scale)
    {
        int i = 0, n = row.Length;
        ref float x = ref MemoryMarshal.GetReference(row);
        ref float m = ref MemoryMarshal.GetReference(mean);
        ref float s = ref MemoryMarshal.GetReference(scale);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref x, (nuint)i);
                Vector512<float> y = (v - Vector512.LoadUnsafe(ref m, (nuint)i)) * Vector512.LoadUnsafe(ref s, (nuint)i);
                Vector512.ConditionalSelect(Vector512.Equals(v, v), y, Vector512<float>.Zero).StoreUnsafe(ref x, (nuint)i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref x, (nuint)i);
                Vector256<float> y = (v - Vector256.LoadUnsafe(ref m, (nuint)i)) * Vector256.LoadUnsafe(ref s, (nuint)i);
                Vector256.ConditionalSelect(Vector256.Equals(v, v), y, Vector256<float>.Zero).StoreUnsafe(ref x, (nuint)i);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> v = Vector128.LoadUnsafe(ref x, (nuint)i);
                Vector128<float> y = (v - Vector128.LoadUnsafe(ref m, (nuint)i)) * Vector128.LoadUnsafe(ref s, (nuint)i);
                Vector128.ConditionalSelect(Vector128.Equals(v, v), y, Vector128<float>.Zero).StoreUnsafe(ref x, (nuint)i);
            }
        }

        NormalizeScalar(row, mean, scale, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void NormalizeScalar(Span<float> row, ReadOnlySpan<float> mean, ReadOnlySpan<float> scale, int from)
    {
        for (int i = from; i < row.Length; i++)
        {
            float v = row[i];
            row[i] = float.IsNaN(v) ? 0f : (v - mean[i]) * scale[i];
        }
    }

    /// <summary>Column means and deviations of rows (NaN skipped; a constant column gets deviation 1), for a trainer.</summary>
    /// <param name="rows">Rows, row-major.</param>
    /// <param name="width">Row width.</param>
    /// <returns>Mean and deviation per column.</returns>
    public static (float[] Mean, float[] Std) Fit(ReadOnlySpan<float> rows, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var count = new long[width];
        var mean = new double[width];
        var m2 = new double[width];
        for (int r = 0; r + width <= rows.Length; r += width)
        {
            for (int c = 0; c < width; c++)
            {
                float v = rows[r + c];
                if (float.IsNaN(v))
                {
                    continue;
                }

                count[c]++;
                double d = v - mean[c];
                mean[c] += d / count[c];
                m2[c] += d * (v - mean[c]);
            }
        }

        var outMean = new float[width];
        var outStd = new float[width];
        for (int c = 0; c < width; c++)
        {
            double sd = count[c] > 1 ? Math.Sqrt(m2[c] / (count[c] - 1)) : 0;
            outMean[c] = (float)mean[c];
            outStd[c] = sd > 1e-6 ? (float)sd : 1f;
        }

        return (outMean, outStd);
    }
}
