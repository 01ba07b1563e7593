// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>A VM state timeline that cannot be read: the message names the file and line.</summary>
public sealed class VmStateFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">The file (or a description of the text) that was read.</param>
    /// <param name="line">The 1-based line, 0 when not known.</param>
    /// <param name="message">What is wrong.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public VmStateFormatException(string source, int line, string message, Exception? inner = null)
        : base(line > 0 ? $"{source}:{line}: {message}" : $"{source}: {message}", inner)
    {
        Source = source;
        Line = line;
    }

    /// <summary>The file (or a description of the text) that was read.</summary>
    public new string Source { get; }

    /// <summary>The 1-based line, 0 when not known.</summary>
    public int Line { get; }
}
