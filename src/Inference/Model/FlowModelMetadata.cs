// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Model;

/// <summary>
/// What a model file carries besides its weights: the feature schema it was trained for, the normalisation of
/// each input column, and default alert thresholds. Stored in the ONNX file's <c>metadata_props</c>.
/// </summary>
public sealed class FlowModelMetadata
{
    /// <summary>Creates metadata.</summary>
    /// <param name="featureSchemaVersion">Version of the feature row layout the model was trained on.</param>
    /// <param name="inputMean">Mean subtracted from each input column before the model sees it.</param>
    /// <param name="inputStd">Standard deviation each input column is divided by (after the mean).</param>
    /// <param name="defaultThreshold">Default alert threshold on the total score, in nats.</param>
    /// <param name="headThresholds">Default thresholds on single heads' components, by head name; none when null.</param>
    /// <param name="properties">
    /// Further name/value pairs the feature code needs to rebuild its rows exactly as in training (vocabularies,
    /// bucket hash seeds, port classes); none when null.
    /// </param>
    /// <exception cref="ArgumentException">The columns differ in length, a deviation is not positive and finite, or a name is empty.</exception>
    public FlowModelMetadata(
        int featureSchemaVersion, ReadOnlySpan<float> inputMean, ReadOnlySpan<float> inputStd, float defaultThreshold,
        IReadOnlyDictionary<string, float>? headThresholds = null, IReadOnlyDictionary<string, string>? properties = null)
    {
        if (inputMean.Length != inputStd.Length)
        {
            throw new ArgumentException($"{inputMean.Length} means but {inputStd.Length} deviations.", nameof(inputStd));
        }

        foreach (float s in inputStd)
        {
            if (!(s > 0) || !float.IsFinite(s))
            {
                throw new ArgumentException($"Deviation {s} is not positive and finite.", nameof(inputStd));
            }
        }

        FeatureSchemaVersion = featureSchemaVersion;
        InputMean = inputMean.ToArray();
        InputStd = inputStd.ToArray();
        DefaultThreshold = defaultThreshold;
        HeadThresholds = Copy(headThresholds, nameof(headThresholds));
        Properties = Copy(properties, nameof(properties));
    }

    /// <summary>Version of the feature row layout the model was trained on.</summary>
    public int FeatureSchemaVersion { get; }

    /// <summary>Mean per input column.</summary>
    public IReadOnlyList<float> InputMean { get; }

    /// <summary>Standard deviation per input column.</summary>
    public IReadOnlyList<float> InputStd { get; }

    /// <summary>Default alert threshold on the total score, in nats, until a per-VM threshold has warmed up.</summary>
    public float DefaultThreshold { get; }

    /// <summary>Default thresholds on single heads' score components, by head name (may be empty).</summary>
    public IReadOnlyDictionary<string, float> HeadThresholds { get; }

    /// <summary>Feature-specific name/value pairs carried with the model (may be empty).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }

    /// <summary>Identity normalisation (mean 0, deviation 1) for <paramref name="inputWidth"/> columns.</summary>
    /// <param name="featureSchemaVersion">Feature schema version.</param>
    /// <param name="inputWidth">Number of columns.</param>
    /// <param name="defaultThreshold">Default threshold.</param>
    /// <returns>The metadata.</returns>
    public static FlowModelMetadata Identity(int featureSchemaVersion, int inputWidth, float defaultThreshold)
    {
        float[] ones = new float[inputWidth];
        Array.Fill(ones, 1f);
        return new FlowModelMetadata(featureSchemaVersion, new float[inputWidth], ones, defaultThreshold);
    }

    private static SortedDictionary<string, T> Copy<T>(IReadOnlyDictionary<string, T>? source, string paramName)
    {
        var copy = new SortedDictionary<string, T>(StringComparer.Ordinal);
        if (source is not null)
        {
            foreach (KeyValuePair<string, T> kv in source)
            {
                if (string.IsNullOrWhiteSpace(kv.Key) || kv.Key.Contains(':', StringComparison.Ordinal) || kv.Key.Contains(',', StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Name '{kv.Key}' must be non-empty, without ':' or ','.", paramName);
                }

                copy.Add(kv.Key, kv.Value);
            }
        }

        return copy;
    }
}
