// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Inference.Model;
using FlowEngine.Inference.Onnx;
using FlowEngine.Inference.Tests.Infrastructure;
using Google.Protobuf;
using Onnx;

namespace FlowEngine.Inference.Tests.Onnx;

public sealed class FlowModelTests
{
    private static readonly FlowModelSpec s_spec = TestModels.Small();
    private static readonly FlowModelMetadata s_metadata = new(
        3, [0.5f, -1f, 2f, 0f, 0f, 1e-3f, 7f], [1f, 2f, 0.25f, 1f, 3f, 1f, 1e-4f], 14.5f,
        new Dictionary<string, float> { ["dst"] = 9.25f, ["log_bytes"] = 20f },
        new Dictionary<string, string> { ["dst_hash_seed"] = "12345", ["apps"] = "dns,http,tls,ssh" });

    private static byte[] Exported() => FlowModelExporter.Export(TestModels.RandomWeights(s_spec, 41), s_metadata);

    [Fact]
    public void Load_ExportedModel_ReadsSpecAndMetadata()
    {
        FlowModel model = FlowModel.Load(Exported(), "m.onnx", 3, 7);
        Assert.True(model.Spec.SameShape(s_spec));
        Assert.Equal("input 7, hidden 12, dst:9 port:5 log_bytes:gaussian log_gap:gaussian", model.Spec.ToString());
        Assert.Equal(3, model.Metadata.FeatureSchemaVersion);
        Assert.Equal(s_metadata.InputMean, model.Metadata.InputMean);
        Assert.Equal(s_metadata.InputStd, model.Metadata.InputStd);
        Assert.Equal(14.5f, model.Metadata.DefaultThreshold);
        Assert.Equal(s_metadata.HeadThresholds, model.Metadata.HeadThresholds);
        Assert.Equal(s_metadata.Properties, model.Metadata.Properties);
    }

    [Fact]
    public void Export_ThresholdForUnknownHead_Throws()
    {
        var metadata = new FlowModelMetadata(3, new float[7], Enumerable.Repeat(1f, 7).ToArray(), 10f, new Dictionary<string, float> { ["nope"] = 1f });
        Assert.Throws<ArgumentException>(() => FlowModelExporter.Export(TestModels.RandomWeights(s_spec, 41), metadata));
    }

    [Fact]
    public void Load_FromFile_NamesFileInErrors()
    {
        string path = Path.Combine(Path.GetTempPath(), $"flowmodel-{Environment.ProcessId}.onnx");
        try
        {
            FlowModelExporter.Export(TestModels.RandomWeights(s_spec, 41), s_metadata, path);
            Assert.True(FlowModel.Load(path, 3, 7).Spec.SameShape(s_spec));
            FlowModelFormatException e = Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(path, 4, 7));
            Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_OtherSchemaVersion_IsRefusedWithClearError()
    {
        FlowModelFormatException e = Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(Exported(), "m.onnx", 4, 7));
        Assert.Equal("m.onnx: the model was trained for feature schema version 3, but the features are schema version 4; train a model for this version.", e.Message);
    }

    [Fact]
    public void Load_OtherInputWidth_IsRefused()
    {
        FlowModelFormatException e = Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(Exported(), "m.onnx", 3, 8));
        Assert.Contains("rows of 7 columns, but the features have 8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_GraphShapeDisagreesWithMetadata_IsRefused()
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(Exported());
        proto.Graph.Input.First(i => i.Name == "x").Type.TensorType.Shape.Dim[1].DimValue = 8;
        FlowModelFormatException e = Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(proto.ToByteArray(), "m.onnx", 3, 7));
        Assert.Contains("input 'x' has shape [batch, 8], expected float [batch, 7]", e.Message, StringComparison.Ordinal);

        proto = ModelProto.Parser.ParseFrom(Exported());
        proto.Graph.Initializer.First(t => t.Name == "Wo").Dims[0] = 3;
        e = Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(proto.ToByteArray(), "m.onnx", 3, 7));
        Assert.Contains("weight 'Wo'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingMetadata_IsRefused()
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(Exported());
        proto.MetadataProps.Remove(proto.MetadataProps.First(p => p.Key == "flowengine.input_std"));
        FlowModelFormatException e = Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(proto.ToByteArray(), "m.onnx", 3, 7));
        Assert.Equal("m.onnx: metadata 'flowengine.input_std' is missing.", e.Message);

        proto.MetadataProps.Clear();
        e = Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(proto.ToByteArray(), "m.onnx", 3, 7));
        Assert.Contains("not a FlowEngine flow model", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff })]
    [InlineData(new byte[] { 0x0a, 0x05, 0x01 })]
    public void Load_NotAModel_IsRefused(byte[] bytes) =>
        Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(bytes, "junk.onnx", 3, 7));

    [Fact]
    public void Load_TruncatedModel_IsRefused()
    {
        byte[] bytes = Exported();
        Assert.Throws<FlowModelFormatException>(() => FlowModel.Load(bytes[..(bytes.Length / 2)], "half.onnx", 3, 7));
    }
}
