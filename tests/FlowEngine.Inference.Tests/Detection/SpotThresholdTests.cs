// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Inference.Thresholds;

namespace FlowEngine.Inference.Tests.Detection;

/// <summary>
/// SPOT against distributions whose tail is known: an exponential stream's threshold at risk q is -ln q, its false
/// alarms come at about rate q, an outlier is flagged, and the threshold follows the stream when it widens.
/// </summary>
public sealed class SpotThresholdTests
{
    private static double Exponential(Random r, double scale = 1) => -scale * Math.Log(1 - r.NextDouble());

    [Theory]
    [InlineData(1e-2)]
    [InlineData(1e-3)]
    [InlineData(1e-4)]
    public void ExponentialStream_ThresholdIsMinusLogRisk_AndFalseAlarmsComeAtThatRate(double risk)
    {
        var random = new Random(5);
        var spot = new SpotThreshold(risk, calibration: 2000, initialQuantile: 0.95);
        for (int i = 0; i < 2000; i++)
        {
            Assert.False(spot.Update(Exponential(random)));
        }

        Assert.True(spot.IsCalibrated);
        int alarms = 0;
        const int n = 400_000;
        for (int i = 0; i < n; i++)
        {
            alarms += spot.Update(Exponential(random)) ? 1 : 0;
        }

        // The exponential's tail is a GPD with shape 0 and scale 1: the true quantile is -ln(risk). The fit uses two
        // quantiles of the last 1,024 excesses, so it extrapolates with some noise (measured within about 15%).
        Assert.InRange(spot.Threshold, -Math.Log(risk) * 0.8, -Math.Log(risk) * 1.25);
        Assert.InRange(spot.Shape, -0.25, 0.25);
        Assert.InRange(spot.Scale, 0.8, 1.2);
        Assert.InRange(alarms / (double)n, risk * 0.25, risk * 3);
    }

    [Fact]
    public void AFewOutliers_AreAlerts_AndBarelyMoveTheThreshold()
    {
        var random = new Random(9);
        var spot = new SpotThreshold(1e-3, calibration: 200);
        for (int i = 0; i < 5000; i++)
        {
            spot.Update(Exponential(random));
        }

        double before = spot.Threshold;
        for (int i = 0; i < 5; i++)
        {
            Assert.True(spot.Update(before * 100));
        }

        // Alerts are not learned from.
        Assert.Equal(before, spot.Threshold);
    }

    [Fact]
    public void WideningStream_RaisesTheThreshold()
    {
        var random = new Random(2);
        var spot = new SpotThreshold(1e-3, calibration: 500);
        for (int i = 0; i < 5000; i++)
        {
            spot.Update(Exponential(random));
        }

        double narrow = spot.Threshold;
        for (int i = 0; i < 50_000; i++)
        {
            spot.Update(Exponential(random, 1.6));
        }

        Assert.True(spot.Threshold > narrow * 1.2, $"{narrow} -> {spot.Threshold}");
    }

    [Fact]
    public void Calibrating_UsesTheFallback_AndAConstantStreamFlagsAnythingAbove()
    {
        var spot = new SpotThreshold(1e-3, calibration: 16, fallback: 10);
        Assert.True(spot.Update(11));
        Assert.False(spot.IsCalibrated);
        for (int i = 0; i < 16; i++)
        {
            Assert.False(spot.Update(2));
        }

        Assert.True(spot.IsCalibrated);
        Assert.True(spot.Update(2.5));
        Assert.False(spot.Update(2));
        Assert.False(spot.Update(double.NaN));
    }

    [Theory]
    [InlineData(0.0, 100, 0.95)]
    [InlineData(0.5, 100, 0.95)]
    [InlineData(1e-3, 2, 0.95)]
    [InlineData(1e-3, 100, 0.5)]
    [InlineData(1e-3, 100, 1.0)]
    public void BadSettings_AreRefused(double risk, int calibration, double quantile)
        => Assert.ThrowsAny<ArgumentException>(() => new SpotThreshold(risk, calibration, quantile));
}
