// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using FlowEngine.Inference.Model;
using FlowEngine.Inference.Onnx;
using FlowEngine.Inference.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FlowEngine.Inference.Tests.Onnx;

public sealed class OnnxFlowScorerTests(ITestOutputHelper output)
{
    private const int Schema = 7;

    internal static FlowModel Export(FlowModelWeights weights) =>
        FlowModel.Load(FlowModelExporter.Export(weights, FlowModelMetadata.Identity(Schema, weights.Spec.InputWidth, 12f)), "test.onnx", Schema, weights.Spec.InputWidth);

    /// <summary>
    /// ONNX Runtime running the exported graph is the oracle for the trainer's forward pass: new states and every
    /// head output agree within 1e-4 over 6 consecutive steps (state carried in the scorer's slots), for several
    /// batch sizes, with VMs in scattered slots.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    [InlineData(100)]
    public void Step_MatchesTrainerForwardPass(int batch)
    {
        FlowModelSpec spec = TestModels.Small();
        FlowModelWeights weights = TestModels.RandomWeights(spec, 31, 0.6);
        using var scorer = new OnnxFlowScorer(Export(weights), vmCapacity: 300, maxBatch: 128);
        var random = new Random(batch);
        int[] vms = Enumerable.Range(0, 300).OrderBy(_ => random.Next()).Take(batch).ToArray();
        float[][] reference = vms.Select(_ => new float[spec.HiddenSize]).ToArray();
        float[] hNew = new float[spec.HiddenSize], outputs = new float[spec.OutputWidth];
        double maxDiff = 0;
        for (int step = 0; step < 6; step++)
        {
            Span<float> rows = scorer.InputRows(batch);
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i] = (float)((random.NextDouble() * 6) - 3);
            }

            float[] rowsCopy = rows.ToArray();
            scorer.Step(vms);
            for (int i = 0; i < batch; i++)
            {
                weights.Step(rowsCopy.AsSpan(i * spec.InputWidth, spec.InputWidth), reference[i], hNew, outputs);
                hNew.CopyTo(reference[i], 0);
                maxDiff = Math.Max(maxDiff, MaxAbs(scorer.State(vms[i]), hNew));
                maxDiff = Math.Max(maxDiff, MaxAbs(scorer.Prediction(vms[i]), outputs));
                Assert.True(scorer.HasPrediction(vms[i]));
            }
        }

        output.WriteLine($"batch {batch}: max abs diff ONNX Runtime vs trainer {maxDiff:E2}");
        Assert.True(maxDiff < 1e-4, $"max abs diff {maxDiff:E2}");
        Assert.False(scorer.HasPrediction(Enumerable.Range(0, 300).First(v => !vms.Contains(v))));
    }

    [Fact]
    public void Score_UsesPredictionOfPreviousStep_AndMatchesFlowScoring()
    {
        FlowModelSpec spec = TestModels.Small();
        FlowModelWeights weights = TestModels.RandomWeights(spec, 32);
        using var scorer = new OnnxFlowScorer(Export(weights), 4, 4);
        float[] comps = new float[spec.HeadCount];
        Assert.True(float.IsNaN(scorer.Score(2, [1, 2], [0.5f, 1f], comps)));

        scorer.InputRows(1).Fill(0.25f);
        scorer.Step([2]);
        float[] expected = new float[spec.HeadCount];
        float want = FlowScoring.Score(spec, scorer.Prediction(2), [1, 2], [0.5f, 1f], expected);
        float got = scorer.Score(2, [1, 2], [0.5f, 1f], comps);
        Assert.Equal(want, got);
        Assert.Equal(expected, comps);
        Assert.Equal(comps.Sum(), got, 1e-4f);

        float partial = scorer.Score(2, [1, -1], [float.NaN, float.NaN], comps);
        Assert.Equal(expected[0], partial, 1e-6f);
        Assert.Equal(0f, comps[1]);

        scorer.Reset(2);
        Assert.False(scorer.HasPrediction(2));
        Assert.All(scorer.State(2).ToArray(), v => Assert.Equal(0f, v));
    }

    /// <summary>
    /// The score is the training loss: scoring sequences flow by flow through the exported model in ONNX Runtime
    /// gives the trainer's mean NLL per flow on the same sequences (with unknown targets and unequal lengths).
    /// </summary>
    [Fact]
    public void Score_OverSequences_MeanEqualsTrainerMeanNll()
    {
        FlowModelSpec spec = TestModels.Small();
        FlowModelWeights weights = TestModels.RandomWeights(spec, 35, 0.4);
        FlowEngine.Inference.Training.FlowSequence[] seqs = TestModels.RandomSequences(spec, 36, 30, 17, 25, 40, 1, 33);
        double expected = new FlowEngine.Inference.Training.FlowTrainer(spec, new() { BatchSize = 4, WindowLength = 8 }).MeanNll(weights, seqs);

        using var scorer = new OnnxFlowScorer(Export(weights), seqs.Length, seqs.Length);
        int nc = spec.CategoricalHeads.Count, ng = spec.GaussianHeads.Count;
        double total = 0;
        int flows = 0;
        for (int t = 0; t < seqs.Max(s => s.Length); t++)
        {
            int[] vms = Enumerable.Range(0, seqs.Length).Where(v => t < seqs[v].Length).ToArray();
            Span<float> rows = scorer.InputRows(vms.Length);
            for (int i = 0; i < vms.Length; i++)
            {
                var s = seqs[vms[i]];
                ReadOnlySpan<int> classes = s.Classes.AsSpan(t * nc, nc);
                ReadOnlySpan<float> values = s.Values.AsSpan(t * ng, ng);
                float score = scorer.Score(vms[i], classes, values, default);
                bool known = classes.ToArray().Any(c => c >= 0) || values.ToArray().Any(v => !float.IsNaN(v));
                if (t > 0 && known)
                {
                    total += score;
                    flows++;
                }

                s.Rows.AsSpan(t * spec.InputWidth, spec.InputWidth).CopyTo(rows.Slice(i * spec.InputWidth, spec.InputWidth));
            }

            scorer.Step(vms);
        }

        output.WriteLine($"mean score via ONNX Runtime {total / flows:F6}, trainer mean NLL {expected:F6} over {flows} flows");
        Assert.Equal(expected, total / flows, 1e-4);
    }

    [Fact]
    public void Step_RepeatedVm_Throws()
    {
        FlowModelSpec spec = TestModels.Small();
        using var scorer = new OnnxFlowScorer(Export(TestModels.RandomWeights(spec, 33)), 8, 8);
        scorer.InputRows(3).Clear();
        Assert.Throws<ArgumentException>(() => scorer.Step([1, 5, 1]));
        Assert.Throws<ArgumentException>(() => scorer.Step([1, 8]));
        scorer.Step([1, 5, 7]);
    }

    /// <summary>
    /// In steady state a step allocates nothing managed (pinned buffers, bindings cached per batch size); also
    /// reports VM-steps per second at batch 1, 64 and 256 (model of 32 inputs, hidden 64).
    /// </summary>
    [Fact]
    public void Step_SteadyState_AllocatesNothing()
    {
        var spec = new FlowModelSpec(32, 64, [new CategoricalHead("dst", 64), new CategoricalHead("port", 16), new CategoricalHead("app", 16)], ["log_bytes", "log_gap"]);
        using var scorer = new OnnxFlowScorer(Export(TestModels.RandomWeights(spec, 34, 0.2)), 1024, 256);
        int[] all = Enumerable.Range(0, 1024).ToArray();
        foreach (int batch in new[] { 1, 64, 256 })
        {
            ReadOnlySpan<int> vms = all.AsSpan(0, batch);
            scorer.InputRows(batch).Fill(0.1f);

            // Warm up for long enough that tiered compilation has promoted the step (its delay is 100 ms).
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 400)
            {
                scorer.Step(vms);
            }

            int iterations = batch == 1 ? 20000 : 2000;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < iterations; i++)
            {
                scorer.Step(vms);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // Throughput per CPU second as well as per wall second: the machine may be shared.
            using var process = Process.GetCurrentProcess();
            TimeSpan cpuBefore = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < iterations; i++)
            {
                scorer.Step(vms);
            }

            TimeSpan wall = Stopwatch.GetElapsedTime(start);
            process.Refresh();
            TimeSpan cpu = process.TotalProcessorTime - cpuBefore;
            double steps = iterations * (double)batch;
            output.WriteLine(
                $"batch {batch}: {steps / cpu.TotalSeconds:N0} VM-steps per CPU second, {steps / wall.TotalSeconds:N0} per wall second " +
                $"({wall.TotalMicroseconds / iterations:F1} us per Run); {allocated} bytes allocated in {iterations} steps");
            Assert.Equal(0, allocated);
        }
    }

    private static double MaxAbs(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }
}
