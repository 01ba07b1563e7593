// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Inference.Model;
using Google.Protobuf;
using Onnx;

namespace FlowEngine.Inference.Onnx;

/// <summary>
/// A flow model file, read and checked: its ONNX bytes, its shape and its metadata. Loading refuses a file that
/// is not a flow model of this format, that was trained for another feature schema, or whose graph does not
/// match the shape its metadata claims, with an error naming the file and what differs.
/// </summary>
public sealed class FlowModel
{
    private FlowModel(string source, byte[] bytes, FlowModelSpec spec, FlowModelMetadata metadata)
    {
        Source = source;
        Bytes = bytes;
        Spec = spec;
        Metadata = metadata;
    }

    /// <summary>Where the model came from (a path, or the name given to <see cref="Load(byte[], string, int, int)"/>).</summary>
    public string Source { get; }

    /// <summary>Model shape, from the file's metadata and checked against its graph.</summary>
    public FlowModelSpec Spec { get; }

    /// <summary>Feature schema, normalisation and thresholds carried by the file.</summary>
    public FlowModelMetadata Metadata { get; }

    internal byte[] Bytes { get; }

    /// <summary>Reads and checks a model file.</summary>
    /// <param name="path">ONNX file written by <see cref="FlowModelExporter"/>.</param>
    /// <param name="featureSchemaVersion">Feature schema version the caller's rows follow.</param>
    /// <param name="inputWidth">Width of the caller's rows.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FlowModelFormatException">The file is not a matching flow model.</exception>
    public static FlowModel Load(string path, int featureSchemaVersion, int inputWidth)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(File.ReadAllBytes(path), path, featureSchemaVersion, inputWidth);
    }

    /// <summary>
    /// The default model embedded in this assembly (trained from the lab's training capture by the command in
    /// docs/model.md), checked against the caller's schema.
    /// </summary>
    /// <param name="featureSchemaVersion">Feature schema version the caller's rows follow.</param>
    /// <param name="inputWidth">Width of the caller's rows.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FlowModelFormatException">The embedded model does not match the schema (a build that forgot to retrain it).</exception>
    public static FlowModel LoadDefault(int featureSchemaVersion, int inputWidth)
    {
        const string name = "FlowEngine.Inference.Models.default.onnx";
        using Stream stream = typeof(FlowModel).Assembly.GetManifestResourceStream(name)
            ?? throw new FlowModelFormatException($"{name}: not embedded in {typeof(FlowModel).Assembly.GetName().Name}");
        byte[] bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return Load(bytes, "embedded default model", featureSchemaVersion, inputWidth);
    }

    /// <summary>Checks a model held in memory.</summary>
    /// <param name="bytes">ONNX model bytes; kept, not copied.</param>
    /// <param name="source">Name for error messages.</param>
    /// <param name="featureSchemaVersion">Feature schema version the caller's rows follow.</param>
    /// <param name="inputWidth">Width of the caller's rows.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FlowModelFormatException">The bytes are not a matching flow model.</exception>
    public static FlowModel Load(byte[] bytes, string source, int featureSchemaVersion, int inputWidth)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(source);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FlowModelFormatException($"{source}: not an ONNX model ({e.Message}).", e);
        }

        Dictionary<string, string> meta = model.MetadataProps.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        if (!meta.TryGetValue(FlowModelFormat.KeyFormat, out string? format))
        {
            throw new FlowModelFormatException($"{source}: not a FlowEngine flow model (no '{FlowModelFormat.KeyFormat}' in its metadata_props).");
        }

        if (format != FlowModelFormat.FormatVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw new FlowModelFormatException($"{source}: flow model format {format}; this code reads format {FlowModelFormat.FormatVersion}.");
        }

        int schema = Int(meta, FlowModelFormat.KeySchema, source);
        if (schema != featureSchemaVersion)
        {
            throw new FlowModelFormatException(
                $"{source}: the model was trained for feature schema version {schema}, but the features are schema version {featureSchemaVersion}; train a model for this version.");
        }

        int width = Int(meta, FlowModelFormat.KeyInputWidth, source);
        if (width != inputWidth)
        {
            throw new FlowModelFormatException($"{source}: the model takes rows of {width} columns, but the features have {inputWidth}.");
        }

        int hidden = Int(meta, FlowModelFormat.KeyHidden, source);
        if (Get(meta, FlowModelFormat.KeyLinearBeforeReset, source) != "1")
        {
            throw new FlowModelFormatException($"{source}: only linear_before_reset = 1 is supported.");
        }

        FlowModelSpec spec;
        FlowModelMetadata metadata;
        try
        {
            string cat = Get(meta, FlowModelFormat.KeyCategorical, source);
            string gauss = Get(meta, FlowModelFormat.KeyGaussian, source);
            CategoricalHead[] heads = cat.Length == 0 ? [] : cat.Split(',').Select(s =>
            {
                string[] kv = s.Split(':');
                return new CategoricalHead(kv[0], int.Parse(kv[1], CultureInfo.InvariantCulture));
            }).ToArray();
            spec = new FlowModelSpec(width, hidden, heads, gauss.Length == 0 ? [] : gauss.Split(','));
            float[] mean = Floats(Get(meta, FlowModelFormat.KeyMean, source));
            float[] std = Floats(Get(meta, FlowModelFormat.KeyStd, source));
            if (mean.Length != width)
            {
                throw new FormatException($"{mean.Length} normalisation means for {width} columns");
            }

            var headThresholds = new Dictionary<string, float>(StringComparer.Ordinal);
            string thresholds = Get(meta, FlowModelFormat.KeyHeadThresholds, source);
            foreach (string item in thresholds.Length == 0 ? [] : thresholds.Split(','))
            {
                string[] kv = item.Split(':');
                if (kv.Length != 2 || !Enumerable.Range(0, spec.HeadCount).Any(i => spec.HeadName(i) == kv[0]))
                {
                    throw new FormatException($"head threshold '{item}' does not name a head of the model");
                }

                headThresholds.Add(kv[0], float.Parse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture));
            }

            Dictionary<string, string> properties = meta.Where(kv => kv.Key.StartsWith(FlowModelFormat.PropertyPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[FlowModelFormat.PropertyPrefix.Length..], kv => kv.Value, StringComparer.Ordinal);
            metadata = new FlowModelMetadata(
                schema, mean, std, float.Parse(Get(meta, FlowModelFormat.KeyThreshold, source), NumberStyles.Float, CultureInfo.InvariantCulture), headThresholds, properties);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            throw new FlowModelFormatException($"{source}: malformed flow model metadata ({e.Message}).", e);
        }

        CheckGraph(model.Graph, spec, source);
        return new FlowModel(source, bytes, spec, metadata);
    }

    private static void CheckGraph(GraphProto? graph, FlowModelSpec spec, string source)
    {
        if (graph is null)
        {
            throw new FlowModelFormatException($"{source}: the model has no graph.");
        }

        int hs = spec.HiddenSize, ins = spec.InputWidth;
        CheckValue(graph.Input, FlowModelFormat.InputRows, [-1, ins], source, "input");
        CheckValue(graph.Input, FlowModelFormat.InputState, [1, -1, hs], source, "input");
        CheckValue(graph.Output, FlowModelFormat.OutputState, [1, -1, hs], source, "output");
        foreach (CategoricalHead head in spec.CategoricalHeads)
        {
            CheckValue(graph.Output, FlowModelFormat.LogitsOutput(head.Name), [-1, head.Classes], source, "output");
        }

        foreach (string head in spec.GaussianHeads)
        {
            CheckValue(graph.Output, FlowModelFormat.MeanOutput(head), [-1, 1], source, "output");
            CheckValue(graph.Output, FlowModelFormat.LogVarianceOutput(head), [-1, 1], source, "output");
        }

        CheckInitializer(graph, "W", [1, 3 * hs, ins], source);
        CheckInitializer(graph, "R", [1, 3 * hs, hs], source);
        CheckInitializer(graph, "B", [1, 6 * hs], source);
        CheckInitializer(graph, "Wo", [spec.OutputWidth, hs], source);
        CheckInitializer(graph, "bo", [spec.OutputWidth], source);
        NodeProto? gru = graph.Node.FirstOrDefault(n => n.OpType == "GRU");
        if (gru is null
            || gru.Attribute.FirstOrDefault(a => a.Name == "hidden_size")?.I != hs
            || gru.Attribute.FirstOrDefault(a => a.Name == "linear_before_reset")?.I != 1
            || (gru.Attribute.FirstOrDefault(a => a.Name == "layout")?.I ?? 0) != 0)
        {
            throw new FlowModelFormatException($"{source}: the graph has no GRU node with hidden_size {hs}, linear_before_reset 1 and layout 0.");
        }
    }

    private static void CheckValue(Google.Protobuf.Collections.RepeatedField<ValueInfoProto> values, string name, long[] dims, string source, string kind)
    {
        ValueInfoProto? v = values.FirstOrDefault(x => x.Name == name);
        if (v is null)
        {
            throw new FlowModelFormatException($"{source}: the graph has no {kind} '{name}'.");
        }

        Google.Protobuf.Collections.RepeatedField<TensorShapeProto.Types.Dimension>? dim = v.Type?.TensorType?.Shape?.Dim;
        if (v.Type?.TensorType?.ElemType != 1 || dim is null || dim.Count != dims.Length
            || dims.Where((d, i) => d >= 0 && dim[i].DimValue != d).Any())
        {
            string actual = dim is null ? "none" : string.Join(", ", dim.Select(x => x.HasDimValue ? x.DimValue.ToString(CultureInfo.InvariantCulture) : x.DimParam));
            throw new FlowModelFormatException(
                $"{source}: {kind} '{name}' has shape [{actual}], expected float [{string.Join(", ", dims.Select(d => d < 0 ? "batch" : d.ToString(CultureInfo.InvariantCulture)))}].");
        }
    }

    private static void CheckInitializer(GraphProto graph, string name, long[] dims, string source)
    {
        TensorProto? t = graph.Initializer.FirstOrDefault(x => x.Name == name);
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (t is null || !t.Dims.SequenceEqual(dims) || t.DataType != 1 || (t.RawData.Length != count * 4 && t.FloatData.Count != count))
        {
            throw new FlowModelFormatException($"{source}: weight '{name}' is missing or not float [{string.Join(", ", dims)}].");
        }
    }

    private static string Get(Dictionary<string, string> meta, string key, string source) =>
        meta.TryGetValue(key, out string? v) ? v : throw new FlowModelFormatException($"{source}: metadata '{key}' is missing.");

    private static int Int(Dictionary<string, string> meta, string key, string source) =>
        int.TryParse(Get(meta, key, source), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new FlowModelFormatException($"{source}: metadata '{key}' = '{meta[key]}' is not an integer.");

    private static float[] Floats(string s) =>
        s.Length == 0 ? [] : s.Split(',').Select(x => float.Parse(x, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
}
