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
    /// <exception cref="ArgumentException">The columns differ in length, or a deviation is not positive and finite.</exception>
    public FlowModelMetadata(int featureSchemaVersion, ReadOnlySpan<float> inputMean, ReadOnlySpan<float> inputStd, float defaultThreshold)
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
    }

    /// <summary>Version of the feature row layout the model was trained on.</summary>
    public int FeatureSchemaVersion { get; }

    /// <summary>Mean per input column.</summary>
    public IReadOnlyList<float> InputMean { get; }

    /// <summary>Standard deviation per input column.</summary>
    public IReadOnlyList<float> InputStd { get; }

    /// <summary>Default alert threshold on the total score, in nats, until a per-VM threshold has warmed up.</summary>
    public float DefaultThreshold { get; }

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
}
