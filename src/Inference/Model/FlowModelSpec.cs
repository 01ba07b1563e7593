// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Model;

/// <summary>A categorical head: a softmax over <see cref="Classes"/> classes of the next flow.</summary>
/// <param name="Name">Head name, used for the ONNX output <c>{Name}_logits</c> and in score evidence.</param>
/// <param name="Classes">Number of classes (at least 2).</param>
public readonly record struct CategoricalHead(string Name, int Classes);

/// <summary>
/// Shape of the predictive flow model: a GRU step over one feature row, then linear heads on the new hidden
/// state. Categorical heads predict a class of the next flow (destination bucket, port class, application);
/// Gaussian heads predict a real value of it (log bytes, log inter-flow time) as a mean and a log-variance.
/// </summary>
/// <remarks>
/// The heads share one output layer of <see cref="OutputWidth"/> columns, laid out as the categorical heads'
/// logits in order, then <c>mean, logvar</c> for each Gaussian head in order.
/// </remarks>
public sealed class FlowModelSpec
{
    private readonly CategoricalHead[] _categorical;
    private readonly string[] _gaussian;
    private readonly int[] _categoricalOffsets;

    /// <summary>Creates a model shape.</summary>
    /// <param name="inputWidth">Width of a feature row.</param>
    /// <param name="hiddenSize">Size of the GRU hidden state.</param>
    /// <param name="categoricalHeads">Categorical heads, in output order.</param>
    /// <param name="gaussianHeads">Names of the Gaussian heads, in output order.</param>
    /// <exception cref="ArgumentException">A size is out of range, a name is empty or repeated, or there is no head.</exception>
    public FlowModelSpec(int inputWidth, int hiddenSize, IEnumerable<CategoricalHead> categoricalHeads, IEnumerable<string> gaussianHeads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentNullException.ThrowIfNull(categoricalHeads);
        ArgumentNullException.ThrowIfNull(gaussianHeads);
        InputWidth = inputWidth;
        HiddenSize = hiddenSize;
        _categorical = categoricalHeads.ToArray();
        _gaussian = gaussianHeads.ToArray();
        if (_categorical.Length + _gaussian.Length == 0)
        {
            throw new ArgumentException("A model needs at least one head.", nameof(categoricalHeads));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        _categoricalOffsets = new int[_categorical.Length];
        int offset = 0;
        for (int i = 0; i < _categorical.Length; i++)
        {
            CategoricalHead head = _categorical[i];
            CheckName(head.Name, names, nameof(categoricalHeads));
            if (head.Classes < 2)
            {
                throw new ArgumentException($"Head '{head.Name}' needs at least 2 classes, not {head.Classes}.", nameof(categoricalHeads));
            }

            _categoricalOffsets[i] = offset;
            offset += head.Classes;
        }

        CategoricalWidth = offset;
        foreach (string name in _gaussian)
        {
            CheckName(name, names, nameof(gaussianHeads));
        }

        OutputWidth = offset + (2 * _gaussian.Length);
    }

    /// <summary>Width of a feature row.</summary>
    public int InputWidth { get; }

    /// <summary>Size of the GRU hidden state.</summary>
    public int HiddenSize { get; }

    /// <summary>Categorical heads, in output order.</summary>
    public IReadOnlyList<CategoricalHead> CategoricalHeads => _categorical;

    /// <summary>Gaussian heads, in output order.</summary>
    public IReadOnlyList<string> GaussianHeads => _gaussian;

    /// <summary>Number of per-head score components: one per categorical head, then one per Gaussian head.</summary>
    public int HeadCount => _categorical.Length + _gaussian.Length;

    /// <summary>Width of the shared output layer: all logits, then <c>mean, logvar</c> per Gaussian head.</summary>
    public int OutputWidth { get; }

    /// <summary>Number of parameters of the model.</summary>
    public int ParameterCount => ParameterLayout.For(this).Total;

    internal int CategoricalWidth { get; }

    /// <summary>Name of head <paramref name="index"/> in score-component order.</summary>
    /// <param name="index">Component index, from 0 to <see cref="HeadCount"/> - 1.</param>
    /// <returns>The head's name.</returns>
    public string HeadName(int index) => index < _categorical.Length ? _categorical[index].Name : _gaussian[index - _categorical.Length];

    /// <summary>Offset of categorical head <paramref name="index"/>'s logits in the output layer.</summary>
    /// <param name="index">Categorical head index.</param>
    /// <returns>The column of its first logit.</returns>
    public int LogitsOffset(int index) => _categoricalOffsets[index];

    /// <summary>Offset of Gaussian head <paramref name="index"/>'s mean in the output layer; its log-variance follows.</summary>
    /// <param name="index">Gaussian head index.</param>
    /// <returns>The column of its mean.</returns>
    public int GaussianOffset(int index) => CategoricalWidth + (2 * index);

    /// <summary>Whether <paramref name="other"/> has the same sizes and heads.</summary>
    /// <param name="other">Another spec.</param>
    /// <returns><see langword="true"/> when both describe the same shape.</returns>
    public bool SameShape(FlowModelSpec other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return InputWidth == other.InputWidth && HiddenSize == other.HiddenSize
            && _categorical.AsSpan().SequenceEqual(other._categorical) && _gaussian.AsSpan().SequenceEqual(other._gaussian);
    }

    /// <summary>A one-line description such as <c>input 32, hidden 64, dst:64 port:16 app:16 log_bytes:gaussian</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        $"input {InputWidth}, hidden {HiddenSize}, " + string.Join(' ', _categorical.Select(h => $"{h.Name}:{h.Classes}").Concat(_gaussian.Select(g => $"{g}:gaussian")));

    private static void CheckName(string name, HashSet<string> names, string paramName)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
        {
            throw new ArgumentException($"Head name '{name}' must be non-empty ASCII letters, digits or '_'.", paramName);
        }

        if (!names.Add(name))
        {
            throw new ArgumentException($"Head name '{name}' is used twice.", paramName);
        }
    }
}

/// <summary>
/// Offsets of each parameter tensor in the flat parameter vector, in ONNX layout:
/// W [3H, I] (gates z, r, h), R [3H, H], Wb [3H], Rb [3H], head weight Wo [D, H], head bias bo [D].
/// </summary>
internal readonly record struct ParameterLayout(int I, int H, int D)
{
    public int W { get; } = 0;

    public int R => W + (3 * H * I);

    public int Wb => R + (3 * H * H);

    public int Rb => Wb + (3 * H);

    public int Wo => Rb + (3 * H);

    public int Bo => Wo + (D * H);

    public int Total => Bo + D;

    public static ParameterLayout For(FlowModelSpec spec) => new(spec.InputWidth, spec.HiddenSize, spec.OutputWidth);

    /// <summary>Name, offset and length of every tensor, for tests and diagnostics.</summary>
    public (string Name, int Offset, int Length)[] Tensors() =>
        [("W", W, 3 * H * I), ("R", R, 3 * H * H), ("Wb", Wb, 3 * H), ("Rb", Rb, 3 * H), ("Wo", Wo, D * H), ("bo", Bo, D)];
}
