// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Onnx;

/// <summary>Names and metadata keys of the flow model's ONNX graph, shared by the exporter and the loader.</summary>
public static class FlowModelFormat
{
    /// <summary>Input: feature rows, float [batch, input].</summary>
    public const string InputRows = "x";

    /// <summary>Input: previous hidden states, float [1, batch, hidden] (ONNX GRU initial_h, one direction).</summary>
    public const string InputState = "h";

    /// <summary>Output: new hidden states, float [1, batch, hidden] (ONNX GRU Y_h).</summary>
    public const string OutputState = "h_out";

    /// <summary>Version of this graph layout and metadata set.</summary>
    public const int FormatVersion = 1;

    /// <summary>Opset of the default ONNX domain the graph uses.</summary>
    public const int Opset = 17;

    internal const string KeyFormat = "flowengine.format_version";
    internal const string KeySchema = "flowengine.feature_schema_version";
    internal const string KeyInputWidth = "flowengine.input_width";
    internal const string KeyHidden = "flowengine.hidden_size";
    internal const string KeyLinearBeforeReset = "flowengine.linear_before_reset";
    internal const string KeyCategorical = "flowengine.categorical_heads";
    internal const string KeyGaussian = "flowengine.gaussian_heads";
    internal const string KeyMean = "flowengine.input_mean";
    internal const string KeyStd = "flowengine.input_std";
    internal const string KeyThreshold = "flowengine.default_threshold";
    internal const string KeyVarianceFloor = "flowengine.variance_floor";
    internal const string KeyHeadThresholds = "flowengine.head_thresholds";
    internal const string PropertyPrefix = "flowengine.property.";

    /// <summary>Output name of a categorical head's logits, float [batch, classes].</summary>
    /// <param name="head">Head name.</param>
    /// <returns><c>{head}_logits</c>.</returns>
    public static string LogitsOutput(string head) => head + "_logits";

    /// <summary>Output name of a Gaussian head's mean, float [batch, 1].</summary>
    /// <param name="head">Head name.</param>
    /// <returns><c>{head}_mean</c>.</returns>
    public static string MeanOutput(string head) => head + "_mean";

    /// <summary>Output name of a Gaussian head's log-variance, float [batch, 1].</summary>
    /// <param name="head">Head name.</param>
    /// <returns><c>{head}_logvar</c>.</returns>
    public static string LogVarianceOutput(string head) => head + "_logvar";
}

/// <summary>A model file that is not a flow model this code can run, or is for another feature schema or shape.</summary>
public sealed class FlowModelFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FlowModelFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    public FlowModelFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="innerException">The cause.</param>
    public FlowModelFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
