// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Inference.Model;
using FlowEngine.Inference.Tests.Infrastructure;
using FlowEngine.Inference.Training;
using Xunit.Abstractions;

namespace FlowEngine.Inference.Tests.Model;

public sealed class GruGradientTests(ITestOutputHelper output)
{
    /// <summary>
    /// Analytic gradient of every parameter tensor (W, R, Wb, Rb, Wo, bo) against central finite differences in
    /// double precision, through full back-propagation over three sequences of different lengths (so masking of
    /// ended sequences is exercised), with unknown targets mixed in.
    /// </summary>
    [Fact]
    public void Backward_Double_MatchesCentralFiniteDifferences()
    {
        FlowModelSpec spec = TestModels.Tiny();
        SequenceData<double>[] batch = TestModels.RandomSequences(spec, 11, 5, 4, 6).Select(TestModels.ToData<double>).ToArray();
        double[] p = TestModels.RandomWeights(spec, 3, 0.8).Parameters.ToArray().Select(x => (double)x).ToArray();
        var window = new GruWindow<double>(spec, batch.Length, 6);

        double Loss()
        {
            window.Reset();
            return window.Run(p, default, batch, 0, 6, out _);
        }

        double[] grad = new double[p.Length];
        window.Reset();
        double loss = window.Run(p, grad, batch, 0, 6, out int flows);
        Assert.Equal(Loss(), loss);
        Assert.True(flows > 8, $"only {flows} scored predictions");

        const double eps = 1e-5;
        double maxRel = 0, maxAbs = 0;
        foreach ((string name, int offset, int length) in ParameterLayout.For(spec).Tensors())
        {
            double tensorMax = 0, tensorAbs = 0, tensorNorm = 0;
            for (int i = offset; i < offset + length; i++)
            {
                double keep = p[i];
                p[i] = keep + eps;
                double up = Loss();
                p[i] = keep - eps;
                double down = Loss();
                p[i] = keep;
                double numeric = (up - down) / (2 * eps);
                // Relative error where the gradient is large enough for it to mean something (rounding in the
                // loss, about 1e-16 * |L| / eps = 1e-9, dominates below that); absolute error everywhere.
                double err = Math.Abs(grad[i] - numeric);
                tensorAbs = Math.Max(tensorAbs, err);
                if (Math.Abs(numeric) >= 1e-3)
                {
                    tensorMax = Math.Max(tensorMax, err / Math.Abs(numeric));
                }

                tensorNorm += grad[i] * grad[i];
            }

            Assert.True(tensorNorm > 1e-6, $"{name}: gradient is zero, the check would be empty");
            output.WriteLine($"{name,-3} [{length,3}] max relative error {tensorMax:E2} (|g| >= 1e-3), max absolute error {tensorAbs:E2}");
            maxRel = Math.Max(maxRel, tensorMax);
            maxAbs = Math.Max(maxAbs, tensorAbs);
        }

        output.WriteLine($"all parameters: max relative error {maxRel:E2}, max absolute error {maxAbs:E2}, loss {loss:F4}");
        Assert.True(maxRel < 1e-5, $"max relative error {maxRel:E2}");
        Assert.True(maxAbs < 1e-7, $"max absolute error {maxAbs:E2}");
    }

    /// <summary>The float instantiation the trainer uses gives the double gradient to float accuracy.</summary>
    [Fact]
    public void Backward_Float_MatchesDoubleWithin1e4()
    {
        FlowModelSpec spec = TestModels.Tiny();
        FlowSequence[] seqs = TestModels.RandomSequences(spec, 12, 7, 3);
        float[] pf = TestModels.RandomWeights(spec, 4, 0.8).Parameters.ToArray();
        double[] pd = pf.Select(x => (double)x).ToArray();

        var wf = new GruWindow<float>(spec, 2, 7);
        float[] gf = new float[pf.Length];
        wf.Reset();
        float lf = wf.Run(pf, gf, seqs.Select(TestModels.ToData<float>).ToArray(), 0, 7, out _);

        var wd = new GruWindow<double>(spec, 2, 7);
        double[] gd = new double[pd.Length];
        wd.Reset();
        double ld = wd.Run(pd, gd, seqs.Select(TestModels.ToData<double>).ToArray(), 0, 7, out _);

        Assert.Equal(ld, lf, 1e-4 * Math.Abs(ld));
        double maxAbs = gf.Zip(gd, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"float vs double gradient: max abs diff {maxAbs:E2}, loss {lf} vs {ld}");
        Assert.True(maxAbs < 1e-4, $"max abs diff {maxAbs:E2}");
    }

    /// <summary>
    /// Truncated windows carry the state: two windows of 3 over sequences of 6 give the same total loss as one
    /// window of 6; and they cut the gradient: the sum of their gradients differs from full back-propagation.
    /// </summary>
    [Fact]
    public void TruncatedWindows_CarryStateForward_AndCutGradient()
    {
        FlowModelSpec spec = TestModels.Tiny();
        SequenceData<double>[] batch = TestModels.RandomSequences(spec, 13, 6, 6).Select(TestModels.ToData<double>).ToArray();
        double[] p = TestModels.RandomWeights(spec, 5, 0.8).Parameters.ToArray().Select(x => (double)x).ToArray();
        var window = new GruWindow<double>(spec, 2, 6);

        window.Reset();
        double whole = window.Run(p, default, batch, 0, 6, out _);
        window.Reset();
        double split = window.Run(p, default, batch, 0, 3, out _) + window.Run(p, default, batch, 3, 3, out _);
        Assert.Equal(whole, split, 1e-12);

        double[] g1 = new double[p.Length], g2 = new double[p.Length], gWhole = new double[p.Length];
        window.Reset();
        window.Run(p, g1, batch, 0, 3, out _);
        window.Run(p, g2, batch, 3, 3, out _);
        window.Reset();
        window.Run(p, gWhole, batch, 0, 6, out _);
        double differs = g1.Zip(g2, (a, b) => a + b).Zip(gWhole, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(differs > 1e-6, "truncation should cut the gradient between windows");
    }
}
