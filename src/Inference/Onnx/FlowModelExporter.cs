// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Runtime.InteropServices;
using FlowEngine.Inference.Model;
using Google.Protobuf;
using Onnx;

namespace FlowEngine.Inference.Onnx;

/// <summary>
/// Writes trained weights as an ONNX model (opset 17): one GRU node with sequence length 1, then one Gemm for
/// all heads and a Split into the named head outputs. The protobuf classes are OnnxSharp's, generated from the
/// public onnx.proto; Google.Protobuf serialises them.
/// </summary>
/// <remarks>
/// <code>
/// x [B, I] ─Unsqueeze(0)→ X [1, B, I] ─┐
/// h [1, B, H] ─────────────────────────┴─ GRU(W, R, B; hidden_size H, linear_before_reset 1, layout 0)
///        → h_out [1, B, H] ─Squeeze(0)→ [B, H] ─Gemm(Wo, bo, transB)→ [B, D]
///        ─Split(axis 1)→ {cat}_logits [B, K] …, {gauss}_mean [B, 1], {gauss}_logvar [B, 1] …
/// </code>
/// </remarks>
public static class FlowModelExporter
{
    private const int FloatType = 1;
    private const int Int64Type = 7;

    /// <summary>Builds the ONNX model.</summary>
    /// <param name="weights">Trained weights.</param>
    /// <param name="metadata">Schema version, normalisation and thresholds to carry in the file.</param>
    /// <returns>The serialised model.</returns>
    /// <exception cref="ArgumentException">The normalisation does not have one entry per input column.</exception>
    public static byte[] Export(FlowModelWeights weights, FlowModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(metadata);
        FlowModelSpec spec = weights.Spec;
        if (metadata.InputMean.Count != spec.InputWidth)
        {
            throw new ArgumentException($"Normalisation has {metadata.InputMean.Count} columns, the model {spec.InputWidth}.", nameof(metadata));
        }

        ParameterLayout l = weights.Layout;
        ReadOnlySpan<float> p = weights.Parameters;
        int hs = spec.HiddenSize, ins = spec.InputWidth, d = spec.OutputWidth;

        var graph = new GraphProto { Name = "flowengine_gru_step" };
        graph.Input.Add(Value(FlowModelFormat.InputRows, "batch", ins));
        graph.Input.Add(Value(FlowModelFormat.InputState, 1, "batch", hs));
        graph.Output.Add(Value(FlowModelFormat.OutputState, 1, "batch", hs));

        graph.Initializer.Add(FloatTensor("W", p.Slice(l.W, 3 * hs * ins), 1, 3 * hs, ins));
        graph.Initializer.Add(FloatTensor("R", p.Slice(l.R, 3 * hs * hs), 1, 3 * hs, hs));
        graph.Initializer.Add(FloatTensor("B", p.Slice(l.Wb, 6 * hs), 1, 6 * hs));
        graph.Initializer.Add(FloatTensor("Wo", p.Slice(l.Wo, d * hs), d, hs));
        graph.Initializer.Add(FloatTensor("bo", p.Slice(l.Bo, d), d));
        graph.Initializer.Add(Int64Tensor("axis0", [0]));

        var splits = new List<long>();
        var outputs = new List<string>();
        foreach (CategoricalHead head in spec.CategoricalHeads)
        {
            splits.Add(head.Classes);
            outputs.Add(FlowModelFormat.LogitsOutput(head.Name));
            graph.Output.Add(Value(FlowModelFormat.LogitsOutput(head.Name), "batch", head.Classes));
        }

        foreach (string head in spec.GaussianHeads)
        {
            splits.Add(1);
            splits.Add(1);
            outputs.Add(FlowModelFormat.MeanOutput(head));
            outputs.Add(FlowModelFormat.LogVarianceOutput(head));
            graph.Output.Add(Value(FlowModelFormat.MeanOutput(head), "batch", 1));
            graph.Output.Add(Value(FlowModelFormat.LogVarianceOutput(head), "batch", 1));
        }

        graph.Initializer.Add(Int64Tensor("splits", [.. splits]));

        graph.Node.Add(Node("Unsqueeze", ["x", "axis0"], ["X"]));
        NodeProto gru = Node("GRU", ["X", "W", "R", "B", string.Empty, FlowModelFormat.InputState], [string.Empty, FlowModelFormat.OutputState]);
        gru.Attribute.Add(IntAttribute("hidden_size", hs));
        gru.Attribute.Add(IntAttribute("linear_before_reset", 1));
        gru.Attribute.Add(IntAttribute("layout", 0));
        graph.Node.Add(gru);
        graph.Node.Add(Node("Squeeze", [FlowModelFormat.OutputState, "axis0"], ["h2"]));
        NodeProto gemm = Node("Gemm", ["h2", "Wo", "bo"], ["heads"]);
        gemm.Attribute.Add(IntAttribute("transB", 1));
        graph.Node.Add(gemm);
        NodeProto split = Node("Split", ["heads", "splits"], [.. outputs]);
        split.Attribute.Add(IntAttribute("axis", 1));
        graph.Node.Add(split);

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "FlowEngine",
            ProducerVersion = typeof(FlowModelExporter).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = FlowModelFormat.Opset });
        Add(model, FlowModelFormat.KeyFormat, FlowModelFormat.FormatVersion.ToString(CultureInfo.InvariantCulture));
        Add(model, FlowModelFormat.KeySchema, metadata.FeatureSchemaVersion.ToString(CultureInfo.InvariantCulture));
        Add(model, FlowModelFormat.KeyInputWidth, ins.ToString(CultureInfo.InvariantCulture));
        Add(model, FlowModelFormat.KeyHidden, hs.ToString(CultureInfo.InvariantCulture));
        Add(model, FlowModelFormat.KeyLinearBeforeReset, "1");
        Add(model, FlowModelFormat.KeyCategorical, string.Join(',', spec.CategoricalHeads.Select(h => $"{h.Name}:{h.Classes.ToString(CultureInfo.InvariantCulture)}")));
        Add(model, FlowModelFormat.KeyGaussian, string.Join(',', spec.GaussianHeads));
        Add(model, FlowModelFormat.KeyMean, Floats(metadata.InputMean));
        Add(model, FlowModelFormat.KeyStd, Floats(metadata.InputStd));
        Add(model, FlowModelFormat.KeyThreshold, metadata.DefaultThreshold.ToString("R", CultureInfo.InvariantCulture));
        Add(model, FlowModelFormat.KeyVarianceFloor, FlowScoring.VarianceFloor.ToString("R", CultureInfo.InvariantCulture));
        foreach (string head in metadata.HeadThresholds.Keys)
        {
            if (!Enumerable.Range(0, spec.HeadCount).Any(i => spec.HeadName(i) == head))
            {
                throw new ArgumentException($"Threshold for head '{head}', which the model does not have.", nameof(metadata));
            }
        }

        Add(model, FlowModelFormat.KeyHeadThresholds, string.Join(',', metadata.HeadThresholds.Select(kv => $"{kv.Key}:{kv.Value.ToString("R", CultureInfo.InvariantCulture)}")));
        foreach (KeyValuePair<string, string> kv in metadata.Properties)
        {
            Add(model, FlowModelFormat.PropertyPrefix + kv.Key, kv.Value);
        }
        return model.ToByteArray();
    }

    /// <summary>Writes the ONNX model to a file.</summary>
    /// <param name="weights">Trained weights.</param>
    /// <param name="metadata">Metadata to carry.</param>
    /// <param name="path">File to write.</param>
    public static void Export(FlowModelWeights weights, FlowModelMetadata metadata, string path) =>
        File.WriteAllBytes(path, Export(weights, metadata));

    private static string Floats(IReadOnlyList<float> values) =>
        string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static void Add(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static NodeProto Node(string op, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = op, Name = op.ToLowerInvariant() + "_" + outputs[^1] };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    private static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static TensorProto FloatTensor(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = FloatType };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(ToLittleEndian(data));
        return t;
    }

    private static TensorProto Int64Tensor(string name, long[] data)
    {
        var t = new TensorProto { Name = name, DataType = Int64Type };
        t.Dims.Add(data.Length);
        t.Int64Data.AddRange(data);
        return t;
    }

    private static byte[] ToLittleEndian(ReadOnlySpan<float> data)
    {
        byte[] bytes = MemoryMarshal.AsBytes(data).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < bytes.Length; i += 4)
            {
                Array.Reverse(bytes, i, 4);
            }
        }

        return bytes;
    }

    private static ValueInfoProto Value(string name, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object dim in dims)
        {
            shape.Dim.Add(dim is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType, Shape = shape } },
        };
    }
}
