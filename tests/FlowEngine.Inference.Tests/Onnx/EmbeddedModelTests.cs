// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Inference.Features;
using FlowEngine.Inference.Onnx;

namespace FlowEngine.Inference.Tests.Onnx;

/// <summary>The default model embedded in FlowEngine.Inference loads, follows the code's feature schema, and says what it was trained on.</summary>
public sealed class EmbeddedModelTests
{
    [Fact]
    public void DefaultModel_Loads_WithTheCodesSchema_AndItsTrainingRecord()
    {
        FlowModel model = FlowModel.LoadDefault(FeatureSchema.Version, FeatureSchema.Width);
        Assert.Equal(FeatureSchema.Version, model.Metadata.FeatureSchemaVersion);
        Assert.Equal(FeatureSchema.Width, model.Spec.InputWidth);
        Assert.Equal(FeatureSchema.CategoricalHeads.Select(h => (h.Name, h.Classes)), model.Spec.CategoricalHeads.Select(h => (h.Name, h.Classes)));
        Assert.Equal(FeatureSchema.GaussianHeads, model.Spec.GaussianHeads);
        Assert.True(int.Parse(model.Metadata.Properties["trained_flows"], CultureInfo.InvariantCulture) > 0);
        Assert.True(float.IsFinite(model.Metadata.DefaultThreshold) && model.Metadata.DefaultThreshold > 0);
        Assert.Throws<FlowModelFormatException>(() => FlowModel.LoadDefault(FeatureSchema.Version + 1, FeatureSchema.Width));
    }
}
