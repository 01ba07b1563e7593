// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Capture;

/// <summary>A capture file is truncated or corrupt. Names the file and the byte offset of the damage.</summary>
public sealed class CaptureFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CaptureFormatException()
    {
        Path = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public CaptureFormatException(string message)
        : base(message)
    {
        Path = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public CaptureFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = string.Empty;
    }

    /// <summary>Creates the exception for a file and offset.</summary>
    /// <param name="path">The capture file.</param>
    /// <param name="offset">Byte offset of the damage in the (uncompressed) capture.</param>
    /// <param name="problem">What is wrong there.</param>
    public CaptureFormatException(string path, long offset, string problem)
        : base($"{path}: at byte offset {offset}: {problem}")
    {
        Path = path;
        Offset = offset;
    }

    /// <summary>The capture file.</summary>
    public string Path { get; }

    /// <summary>Byte offset of the damage in the (uncompressed) capture.</summary>
    public long Offset { get; }
}
