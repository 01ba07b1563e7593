// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Thresholds;

/// <summary>
/// An adaptive threshold for one VM's deviation scores: streaming peaks-over-threshold (SPOT; Siffer, Fouque, Termier
/// and Largouët, "Anomaly Detection in Streams with Extreme Value Theory", KDD 2017). After a calibration of the VM's
/// own first scores, the excesses over an initial quantile <c>t</c> are modelled by a generalised Pareto distribution,
/// and the threshold is the score exceeded with probability <see cref="Risk"/>. As in the paper, alerts are not
/// learned from, so a flood of anomalous flows does not raise the threshold.
/// </summary>
/// <remarks>
/// Fitting: the two parameters come from two quantiles of the most recent excesses (
/// a bounded reservoir; the median and the 90th percentile), corrected for the part of the tail the alerts cut off (the model's own exceedance
/// probability at the threshold). Moment or likelihood fits over a sample truncated at the threshold underestimate the
/// tail, which lowers the threshold, which truncates more: that collapse was measured here on exponential streams
/// with moments. Quantiles well below the threshold are not touched by the truncation. Memory: the calibration buffer
/// and a reservoir of <see cref="ReservoirSize"/> excesses per VM.
/// </remarks>
public sealed class SpotThreshold
{
    /// <summary>Excesses kept for the fit (the most recent).</summary>
    public const int ReservoirSize = 1024;

    private const double P1 = 0.5, P2 = 0.9;

    private readonly double[] _calibration;
    private readonly double[] _reservoir = new double[ReservoirSize];
    private readonly double[] _sorted = new double[ReservoirSize];
    private int _calibrated;
    private int _held;
    private int _next;
    private int _sinceFit;
    private double _t;
    private long _n;
    private long _peaks;
    private bool _fitted;

    /// <summary>A threshold learning from the VM's scores.</summary>
    /// <param name="risk">Probability of a normal score exceeding the threshold (1e-6 to 0.01). Default 1e-3.</param>
    /// <param name="calibration">Scores before the threshold exists (16 to 100,000). Default 100.</param>
    /// <param name="initialQuantile">Quantile of the calibration scores above which the tail is modelled (0.8 to 0.995). Default 0.95.</param>
    /// <param name="fallback">Threshold used during calibration (e.g. the model's default).</param>
    public SpotThreshold(double risk = 1e-3, int calibration = 100, double initialQuantile = 0.95, double fallback = double.PositiveInfinity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(risk, 1e-6);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(risk, 0.01);
        ArgumentOutOfRangeException.ThrowIfLessThan(calibration, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(calibration, 100_000);
        ArgumentOutOfRangeException.ThrowIfLessThan(initialQuantile, 0.8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialQuantile, 0.995);
        Risk = risk;
        InitialQuantile = initialQuantile;
        Fallback = fallback;
        _calibration = new double[calibration];
        Threshold = fallback;
    }

    /// <summary>Probability of a normal score exceeding the threshold.</summary>
    public double Risk { get; }

    /// <summary>Quantile of the calibration above which peaks are modelled.</summary>
    public double InitialQuantile { get; }

    /// <summary>The threshold while calibrating.</summary>
    public double Fallback { get; }

    /// <summary>True once the VM's own scores set the threshold.</summary>
    public bool IsCalibrated => _calibrated >= _calibration.Length;

    /// <summary>The current threshold: scores above it are alerts.</summary>
    public double Threshold { get; private set; }

    /// <summary>The tail's GPD shape (γ) as last fitted.</summary>
    public double Shape { get; private set; }

    /// <summary>The tail's GPD scale (σ) as last fitted.</summary>
    public double Scale { get; private set; }

    /// <summary>Adds a score; returns true when it is above the threshold (an alert, which the threshold does not learn from).</summary>
    /// <param name="score">The flow's deviation score (NaN is ignored).</param>
    /// <returns>Whether it is an alert.</returns>
    public bool Update(double score)
    {
        if (double.IsNaN(score))
        {
            return false;
        }

        if (!IsCalibrated)
        {
            bool alert = score > Fallback;
            if (!alert)
            {
                _calibration[_calibrated++] = score;
                if (IsCalibrated)
                {
                    Calibrate();
                }
            }

            return alert;
        }

        if (score > Threshold)
        {
            return true;
        }

        _n++;
        if (score > _t)
        {
            AddPeak(score - _t);

            // Refit every few peaks: a sort of the reservoir each time would cost more than the flows it judges.
            if (++_sinceFit >= 8)
            {
                Refit();
            }
        }

        return false;
    }

    private void Calibrate()
    {
        double[] sorted = [.. _calibration.Order()];
        _t = sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(InitialQuantile * sorted.Length))];
        _n = sorted.Length;
        foreach (double x in sorted)
        {
            if (x > _t)
            {
                AddPeak(x - _t);
            }
        }

        Refit();
    }

    private void AddPeak(double y)
    {
        _peaks++;
        _reservoir[_next] = y;
        _next = (_next + 1) % ReservoirSize;
        _held = Math.Min(_held + 1, ReservoirSize);
    }

    private void Refit()
    {
        _sinceFit = 0;
        if (_held < 4)
        {
            // Too few excesses for a tail (a near-constant stream): anything above the largest seen is exceptional.
            Shape = 0;
            Scale = 0;
            Threshold = _t + (_held == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.Max<double>(_reservoir.AsSpan(0, _held)));
            return;
        }

        Span<double> sorted = _sorted.AsSpan(0, _held);
        _reservoir.AsSpan(0, _held).CopyTo(sorted);
        sorted.Sort();

        // The kept excesses lack the part above the threshold; by the current fit that part is risk * n / peaks of
        // the tail, so an empirical quantile p of the kept sample is the quantile p * (1 - cut) of the whole tail.
        double ratio = Math.Min(0.5, Risk * _n / _peaks);
        double keep = 1 - (_fitted ? ratio : 0);
        double p1 = P1 * keep, p2 = P2 * keep;
        double q1 = At(sorted, P1), q2 = At(sorted, P2);
        (double gamma, double sigma) = FitTwoQuantiles(p1, q1, p2, q2);
        Shape = gamma;
        Scale = sigma;
        _fitted = true;
        Threshold = _t + ExcessQuantile(gamma, sigma, 1 - (Risk * _n / _peaks));
    }

    private static double At(ReadOnlySpan<double> sorted, double p)
    {
        double position = p * (sorted.Length - 1);
        int i = (int)position;
        double f = position - i;
        return i + 1 < sorted.Length ? (sorted[i] * (1 - f)) + (sorted[i + 1] * f) : sorted[i];
    }

    // GPD excess quantile: Q(p) = σ/γ ((1 - p)^-γ - 1), or -σ ln(1 - p) for γ = 0.
    private static double ExcessQuantile(double gamma, double sigma, double p)
    {
        double tail = Math.Max(1 - p, 1e-300);
        return Math.Abs(gamma) < 1e-9 ? -sigma * Math.Log(tail) : sigma / gamma * (Math.Pow(tail, -gamma) - 1);
    }

    // γ from the ratio Q(p2) / Q(p1), which grows with γ (bisection on [-0.5, 1]); then σ from Q(p1).
    private static (double Gamma, double Sigma) FitTwoQuantiles(double p1, double q1, double p2, double q2)
    {
        if (!(q1 > 0) || !(q2 > q1))
        {
            return (0, Math.Max(q2, 1e-9) / Math.Log(1 / (1 - p2)));
        }

        double target = q2 / q1;
        double lo = -0.5, hi = 1.0;
        double Ratio(double g) => ExcessQuantile(g, 1, p2) / ExcessQuantile(g, 1, p1);
        if (target <= Ratio(lo))
        {
            hi = lo;
        }
        else if (target >= Ratio(hi))
        {
            lo = hi;
        }
        else
        {
            for (int i = 0; i < 60; i++)
            {
                double mid = 0.5 * (lo + hi);
                if (Ratio(mid) < target)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid;
                }
            }
        }

        double gamma = 0.5 * (lo + hi);
        return (gamma, q1 / ExcessQuantile(gamma, 1, p1));
    }
}
