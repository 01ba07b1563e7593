// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>A run of bytes in a parsed input: its offset and length (0 when absent).</summary>
/// <param name="Start">Offset of the first byte in the input that was parsed.</param>
/// <param name="Length">Bytes; 0 when the value is absent or empty.</param>
public readonly record struct TextRange(int Start, int Length)
{
    /// <summary>True when the range holds at least one byte.</summary>
    public bool IsEmpty => Length <= 0;

    /// <summary>The bytes of the range in <paramref name="input"/> (empty when the range does not fit it).</summary>
    /// <param name="input">The input the range was parsed from.</param>
    /// <returns>The bytes.</returns>
    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> input)
        => Length <= 0 || (uint)Start > (uint)input.Length || Length > input.Length - Start ? default : input.Slice(Start, Length);
}
