// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Benchmarks.Synthetic;

/// <summary>
/// Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s, by binary search over a precomputed
/// cumulative distribution (8 bytes per rank; 8 MB for a million flows).
/// </summary>
public sealed class ZipfSampler
{
    private readonly double[] _cdf;

    /// <summary>Builds the distribution.</summary>
    /// <param name="n">Number of ranks, at least 1.</param>
    /// <param name="exponent">Exponent s; 0 gives a uniform distribution.</param>
    public ZipfSampler(int n, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(exponent);
        _cdf = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++)
        {
            sum += Math.Pow(k + 1, -exponent);
            _cdf[k] = sum;
        }

        for (int k = 0; k < n; k++)
        {
            _cdf[k] /= sum;
        }

        _cdf[n - 1] = 1.0;
    }

    /// <summary>Draws one rank.</summary>
    /// <param name="rng">Random source.</param>
    /// <returns>A rank in [0, n).</returns>
    public int Next(ref SplitMix64 rng)
    {
        double u = rng.NextDouble();
        int lo = 0;
        int hi = _cdf.Length - 1;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (_cdf[mid] > u)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo;
    }
}
