// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Archive;

/// <summary>Damage found in an archive file: which file, at which byte offset, and what. Data before it stays readable.</summary>
/// <param name="Path">The file.</param>
/// <param name="Offset">Byte offset of the damaged frame or header.</param>
/// <param name="Message">What is wrong.</param>
public sealed record ArchiveIssue(string Path, long Offset, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Path}: offset {Offset}: {Message}";
}
