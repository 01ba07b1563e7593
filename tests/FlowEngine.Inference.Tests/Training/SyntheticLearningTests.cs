// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using FlowEngine.Inference.Model;
using FlowEngine.Inference.Onnx;
using FlowEngine.Inference.Training;
using Xunit.Abstractions;

namespace FlowEngine.Inference.Tests.Training;

/// <summary>
/// Each synthetic VM repeats the periodic pattern of its role, (destination bucket, port class, log bytes),
/// from a random phase, with 5% of destinations replaced at random and Gaussian noise on the bytes. Role 0 has
/// period 4 and visits bucket 0 twice, so predicting what follows bucket 0 needs two steps of memory.
/// </summary>
public sealed class SyntheticLearningTests(ITestOutputHelper output)
{
    private const int Buckets = 6, Ports = 3, Length = 64, Schema = 1;
    private const float BytesMean = 5.5f, BytesStd = 2.5f, BytesNoise = 0.15f;

    private static readonly (int Dst, int Port, float LogBytes)[][] s_roles =
    [
        [(0, 0, 3f), (1, 1, 6f), (0, 0, 3f), (2, 2, 8f)],
        [(3, 0, 4f), (4, 1, 5f), (5, 2, 7.5f)],
        [(1, 2, 2f), (5, 0, 9f)],
    ];

    private static readonly FlowModelSpec s_spec = new(Buckets + Ports + 1, 16, [new CategoricalHead("dst", Buckets), new CategoricalHead("port", Ports)], ["log_bytes"]);

    [Fact]
    public void Train_PeriodicVms_BeatsUnigramBaseline_AndFlagsOffPatternFlow()
    {
        FlowSequence[] train = Generate(80, seed: 1, out _);
        FlowSequence[] heldOut = Generate(30, seed: 2, out var heldOutFlows);
        var options = new FlowTrainerOptions { Seed = 5, BatchSize = 16, WindowLength = 16, LearningRate = 1e-2f, MaxEpochs = 60, Patience = 6 };
        var trainer = new FlowTrainer(s_spec, options);

        long start = Stopwatch.GetTimestamp();
        TrainingResult result = trainer.Train(train);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);

        double model = trainer.MeanNll(result.Weights, heldOut);
        double unigram = heldOutFlows.Average(UnigramNll);
        output.WriteLine(
            $"trained {result.Epochs} epochs ({result.Updates} updates, best epoch {result.BestEpoch}) in {elapsed.TotalSeconds:F2} s, " +
            $"{result.TrainingSteps / result.Elapsed.TotalSeconds:N0} sequence steps (forward + backward) per second");
        Assert.Equal(result.Epochs * (80 - 8) * (long)Length, result.TrainingSteps);
        output.WriteLine($"held-out mean NLL per flow: model {model:F3} nats, per-VM unigram baseline {unigram:F3} nats");
        Assert.True(model < unigram - 2.0, $"model {model:F3} vs unigram {unigram:F3}");

        // Score the held-out VMs inline through the exported model, with one flow off the pattern per VM.
        FlowModel onnx = FlowModel.Load(
            FlowModelExporter.Export(result.Weights, FlowModelMetadata.Identity(Schema, s_spec.InputWidth, 10f)), "synthetic.onnx", Schema, s_spec.InputWidth);
        using var scorer = new OnnxFlowScorer(onnx, heldOutFlows.Length, heldOutFlows.Length);
        const int Injected = 40;
        var normal = new List<float>();
        var injected = new List<float>();
        var after = new List<float>();
        int[] vms = Enumerable.Range(0, heldOutFlows.Length).ToArray();
        for (int t = 0; t < Length; t++)
        {
            Span<float> rows = scorer.InputRows(vms.Length);
            foreach (int vm in vms)
            {
                (int dst, int port, float lb) = heldOutFlows[vm][t];
                if (t == Injected)
                {
                    (dst, port, lb) = OffPattern(vm);
                }

                float score = scorer.Score(vm, [dst, port], [lb], default);
                if (t == Injected)
                {
                    injected.Add(score);
                }
                else if (t >= 4 && t < Injected)
                {
                    normal.Add(score);
                }
                else if (t > Injected)
                {
                    after.Add(score);
                }

                Row(dst, port, lb, rows.Slice(vm * s_spec.InputWidth, s_spec.InputWidth));
            }

            scorer.Step(vms);
        }

        normal.Sort();
        float p99 = normal[(int)(normal.Count * 0.99)];
        output.WriteLine($"normal flows: mean score {normal.Average():F2}, 99th percentile {p99:F2}, max {normal[^1]:F2}; off-pattern flows: min {injected.Min():F2}, mean {injected.Average():F2}; flows after it: mean {after.Average():F2}");
        Assert.True(injected.Min() > p99 + 5, $"off-pattern min {injected.Min():F2}, normal p99 {p99:F2}");
        Assert.True(injected.Average() > normal.Average() + 20);
    }

    private static (int, int, float) OffPattern(int vm)
    {
        // A bucket and port the role never uses (or the rarest), and a volume far from any in its pattern.
        (int Dst, int Port, float LogBytes)[] role = s_roles[vm % s_roles.Length];
        int dst = Enumerable.Range(0, Buckets).First(b => role.All(r => r.Dst != b));
        int port = Enumerable.Range(0, Ports).OrderBy(p => role.Count(r => r.Port == p)).First();
        return (dst, port, 12f);
    }

    private static FlowSequence[] Generate(int vms, int seed, out (int Dst, int Port, float LogBytes)[][] flows)
    {
        var random = new Random(seed);
        flows = new (int, int, float)[vms][];
        var sequences = new FlowSequence[vms];
        for (int vm = 0; vm < vms; vm++)
        {
            (int Dst, int Port, float LogBytes)[] role = s_roles[vm % s_roles.Length];
            int phase = random.Next(role.Length);
            float[] rows = new float[Length * s_spec.InputWidth];
            int[] classes = new int[Length * 2];
            float[] values = new float[Length];
            flows[vm] = new (int, int, float)[Length];
            for (int t = 0; t < Length; t++)
            {
                (int dst, int port, float lb) = role[(phase + t) % role.Length];
                if (random.NextDouble() < 0.05)
                {
                    dst = random.Next(Buckets);
                }

                lb += (float)(BytesNoise * Gaussian(random));
                flows[vm][t] = (dst, port, lb);
                Row(dst, port, lb, rows.AsSpan(t * s_spec.InputWidth, s_spec.InputWidth));
                classes[2 * t] = dst;
                classes[(2 * t) + 1] = port;
                values[t] = lb;
            }

            sequences[vm] = new FlowSequence(s_spec, rows, classes, values);
        }

        return sequences;
    }

    private static void Row(int dst, int port, float logBytes, Span<float> row)
    {
        row.Clear();
        row[dst] = 1;
        row[Buckets + port] = 1;
        row[Buckets + Ports] = (logBytes - BytesMean) / BytesStd;
    }

    /// <summary>
    /// The VM's own frequencies of destination and port (add-½ smoothing) and a Gaussian fitted to its own log
    /// bytes, over the same flows the model is scored on: a generous baseline that has seen the answers.
    /// </summary>
    private static double UnigramNll((int Dst, int Port, float LogBytes)[] flows)
    {
        (int Dst, int Port, float LogBytes)[] scored = flows[1..];
        double nll = 0;
        foreach ((int k, Func<(int Dst, int Port, float LogBytes), int> pick) in new[] { (Buckets, (Func<(int Dst, int Port, float LogBytes), int>)(f => f.Dst)), (Ports, f => f.Port) })
        {
            double[] counts = new double[k];
            Array.Fill(counts, 0.5);
            foreach (var f in scored)
            {
                counts[pick(f)]++;
            }

            double total = counts.Sum();
            nll += scored.Sum(f => -Math.Log(counts[pick(f)] / total));
        }

        double mean = scored.Average(f => f.LogBytes);
        double variance = scored.Average(f => (f.LogBytes - mean) * (f.LogBytes - mean)) + FlowScoring.VarianceFloor;
        nll += scored.Sum(f => (0.5 * Math.Log(2 * Math.PI * variance)) + ((f.LogBytes - mean) * (f.LogBytes - mean) / (2 * variance)));
        return nll / scored.Length;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
