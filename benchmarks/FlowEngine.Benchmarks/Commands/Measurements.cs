// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Benchmarks.Commands;

/// <summary>Summaries of repeated timings, shared by the stand-alone modes.</summary>
public static class Measurements
{
    /// <summary>The median (the mean of the middle two for an even count); the input is not reordered.</summary>
    /// <param name="values">At least one value.</param>
    /// <returns>The median.</returns>
    public static double Median(ReadOnlySpan<double> values)
    {
        ArgumentOutOfRangeException.ThrowIfZero(values.Length);
        double[] sorted = values.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>The values with two decimals, space-separated (invariant culture), for a line of passes.</summary>
    /// <param name="values">Values.</param>
    /// <returns>The line.</returns>
    public static string Format(double[] values)
        => string.Join(' ', values.Select(m => m.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)));
}
