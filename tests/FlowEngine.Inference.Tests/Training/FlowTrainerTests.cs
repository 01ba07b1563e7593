// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Inference.Model;
using FlowEngine.Inference.Tests.Infrastructure;
using FlowEngine.Inference.Training;

namespace FlowEngine.Inference.Tests.Training;

public sealed class FlowTrainerTests
{
    private static readonly FlowTrainerOptions s_options = new() { Seed = 42, BatchSize = 3, WindowLength = 4, MaxEpochs = 4, Patience = 10, LearningRate = 1e-2f };

    [Fact]
    public void Train_SameSeed_GivesBitIdenticalWeights()
    {
        FlowModelSpec spec = TestModels.Tiny();
        FlowSequence[] data = TestModels.RandomSequences(spec, 21, 9, 7, 12, 5, 8, 10, 6);
        TrainingResult a = new FlowTrainer(spec, s_options).Train(data);
        TrainingResult b = new FlowTrainer(spec, s_options).Train(data);
        TrainingResult c = new FlowTrainer(spec, s_options with { Seed = 43 }).Train(data);

        Assert.True(MemoryMarshal.AsBytes(a.Weights.Parameters).SequenceEqual(MemoryMarshal.AsBytes(b.Weights.Parameters)));
        Assert.False(MemoryMarshal.AsBytes(a.Weights.Parameters).SequenceEqual(MemoryMarshal.AsBytes(c.Weights.Parameters)));
        Assert.False(a.Weights.Parameters.SequenceEqual(FlowModelWeights.Initialize(spec, 42).Parameters), "training changed nothing");
    }

    [Fact]
    public void Train_ReportsProgressEveryEpoch_AndLowersTrainingLoss()
    {
        FlowModelSpec spec = TestModels.Tiny();
        FlowSequence[] data = TestModels.RandomSequences(spec, 22, 20, 20, 20, 20, 20);
        var reports = new List<TrainingProgress>();
        TrainingResult result = new FlowTrainer(spec, s_options with { MaxEpochs = 30 }).Train(data, new SyncProgress(reports.Add));

        Assert.Equal(result.Epochs, reports.Count);
        Assert.Equal(Enumerable.Range(1, reports.Count), reports.Select(r => r.Epoch));
        Assert.True(reports[^1].TrainLoss < reports[0].TrainLoss, $"{reports[0].TrainLoss} -> {reports[^1].TrainLoss}");
        Assert.All(reports, r => Assert.False(double.IsNaN(r.ValidationLoss)));
        Assert.Equal(reports.Min(r => r.ValidationLoss), result.BestValidationLoss, 1e-4);
    }

    [Fact]
    public void Train_StopsEarly_WhenHeldOutLossStopsImproving()
    {
        // Random targets: nothing generalises, so the held-out loss rises once the model memorises.
        FlowModelSpec spec = TestModels.Tiny();
        FlowSequence[] data = TestModels.RandomSequences(spec, 23, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15);
        TrainingResult result = new FlowTrainer(spec, s_options with { MaxEpochs = 200, Patience = 3, LearningRate = 3e-2f, ValidationFraction = 0.3 }).Train(data);

        Assert.True(result.Epochs < 200, "did not stop early");
        Assert.Equal(result.BestEpoch + 3, result.Epochs);
        double kept = new FlowTrainer(spec, s_options).MeanNll(result.Weights, data);
        Assert.True(double.IsFinite(kept));
    }

    [Fact]
    public void Train_ClipsGradient_NoNaNWithHugeLearningRate()
    {
        FlowModelSpec spec = TestModels.Tiny();
        FlowSequence[] data = TestModels.RandomSequences(spec, 24, 10, 10, 10);
        TrainingResult result = new FlowTrainer(spec, s_options with { LearningRate = 1f, ClipNorm = 1f, MaxEpochs = 3 }).Train(data);
        foreach (float v in result.Weights.Parameters)
        {
            Assert.True(float.IsFinite(v));
        }
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
