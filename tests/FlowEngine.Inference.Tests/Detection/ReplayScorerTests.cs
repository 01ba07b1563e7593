// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;
using FlowEngine.Inference.Detection;
using FlowEngine.Inference.Features;
using FlowEngine.Inference.Onnx;
using FlowEngine.Inference.Training;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Inference.Tests.Detection;

/// <summary>
/// From capture to scores: a model trained on the bundled lab capture's flows, exported, loaded and replayed through
/// ONNX Runtime gives every VM flow but each VM's first the score the trainer's own forward pass gives it; the same
/// seed gives the same model file.
/// </summary>
public sealed class ReplayScorerTests
{
    [Fact]
    public void TrainExportReplay_ScoresEqualTheReferenceForwardPass_AndTrainingIsDeterministic()
    {
        FlowDataset data = LabDataset();
        var options = new FlowTrainerOptions { MaxEpochs = 3, Seed = 4 };
        TrainedFlowModel trained = FlowModelTraining.Train(data, hiddenSize: 12, options);
        byte[] onnx = FlowModelExporter.Export(trained.Weights, trained.Metadata);
        Assert.Equal(onnx, FlowModelExporter.Export(FlowModelTraining.Train(LabDataset(), 12, options).Weights, trained.Metadata));

        FlowModel model = FlowModel.Load(onnx, "lab.onnx", FeatureSchema.Version, FeatureSchema.Width);
        Assert.Equal(trained.Metadata.DefaultThreshold, model.Metadata.DefaultThreshold);
        IReadOnlyList<FlowScore> scores = new FlowReplayScorer(model).Score(data);
        Assert.Equal(data.Rows, scores.Count);
        Assert.Equal(data.VmCount, scores.Count(s => !s.Scored));

        // The oracle: each VM's sequence scored alone by the trainer's reference forward pass.
        var normalizer = new FeatureNormalizer([.. trained.Metadata.InputMean], [.. trained.Metadata.InputStd]);
        foreach (VmFlowSequence s in data.Sequences())
        {
            normalizer.Normalize(s.Rows);
            var expected = new List<float>();
            FlowModelTraining.ScoreSequence(trained.Weights, s, (total, _) => expected.Add(total));
            var actual = scores.Where(x => x.Vm == s.Vm && x.Scored).ToList();
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i].Score) <= 1e-3 * Math.Max(1, Math.Abs(expected[i])), $"{s.Vm} flow {i + 1}: {expected[i]} vs {actual[i].Score}");
            }
        }

        // Thresholds: every VM calibrates on its own flows; alerts are scores above the threshold in force.
        Assert.All(scores.Where(s => s.Alert), s => Assert.True(s.Score > s.Threshold));
        Assert.All(scores.Where(s => s.Scored && !s.Alert), s => Assert.True(s.Score <= s.Threshold));
    }

    [Fact]
    public void Train_RefusesTooLittleData()
        => Assert.Throws<ArgumentException>(() => FlowModelTraining.Train(new FlowDataset(), 8));

    private static FlowDataset LabDataset()
    {
        string dir = Path.Combine(Repository.Root(), "samples", "data");
        var vms = new VmIdentityTable(VmInventory.Load(Path.Combine(dir, "lab-small.inventory.csv")));
        var metadata = new AppMetadataTable();
        var profiles = new ProfileStore();
        var data = new FlowDataset();
        using CaptureFileReader reader = CaptureFile.Open(Path.Combine(dir, "lab-small.pcapng"));
        using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
            new FlowDatasetSink(data, vms, metadata, profiles), new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms)));
        pipeline.Run(reader);
        return data;
    }
}
