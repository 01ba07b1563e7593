// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Collections.ObjectModel;
using FlowEngine.Packets;

namespace FlowEngine.Capture;

/// <summary>
/// Reads a pcap or pcapng file, optionally gzip-compressed, as a <see cref="IPacketSource"/>. Created by
/// <see cref="CaptureFile.Open"/>.
/// </summary>
/// <remarks>
/// Uncompressed files are memory-mapped and frames point into the mapping; compressed files are decompressed into a
/// reused pinned buffer and frames point into it. Reading allocates nothing per packet or per batch. A damaged file
/// yields every packet before the damage; the next <see cref="ReadBatch"/> throws one
/// <see cref="CaptureFormatException"/>, and later calls return false. One reader is used by one thread.
/// </remarks>
public sealed class CaptureFileReader : IPacketSource
{
    private readonly CaptureBuffer _input;
    private readonly CaptureParser _parser;
    private CaptureFormatException? _pendingError;
    private bool _ended;
    private bool _disposed;

    internal CaptureFileReader(string path, CaptureFileFormat format, CaptureBuffer input, CaptureParser parser)
    {
        Path = path;
        Format = format;
        _input = input;
        _parser = parser;
        InterfaceLinkTypes = new ReadOnlyCollection<LinkType>(parser.LinkTypes);
        if (parser.Start() != ParseStatus.More)
        {
            // Damage (or the end) before the first packet: reported by the first ReadBatch.
            _ended = true;
            _pendingError = _parser.DamageProblem.Length != 0 ? CreateError() : null;
        }
    }

    /// <summary>The file, as passed to <see cref="CaptureFile.Open"/>.</summary>
    public string Path { get; }

    /// <summary>The container format, identified by magic bytes.</summary>
    public CaptureFileFormat Format { get; }

    /// <summary>True when the file is gzip-compressed.</summary>
    public bool IsCompressed => _input.IsCompressed;

    /// <summary>
    /// Link type of each interface, indexed by interface id: one entry for pcap; for pcapng, the interfaces described
    /// so far in the current section (the first section's leading descriptions are read by <see cref="CaptureFile.Open"/>).
    /// </summary>
    public IReadOnlyList<LinkType> InterfaceLinkTypes { get; }

    /// <summary>Byte offset of the next record in the (uncompressed) capture.</summary>
    public long Position => _input.AbsolutePosition;

    /// <inheritdoc/>
    public bool ReadBatch(PacketBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        batch.Clear();
        if (_ended)
        {
            if (_pendingError is { } error)
            {
                _pendingError = null;
                throw error;
            }

            return false;
        }

        ParseStatus status = _parser.Fill(batch);
        if (status == ParseStatus.More)
        {
            return true;
        }

        _ended = true;
        if (status == ParseStatus.Damage)
        {
            CaptureFormatException error = CreateError();
            if (batch.Count == 0)
            {
                throw error;
            }

            _pendingError = error;
            return true;
        }

        return batch.Count > 0;
    }

    /// <summary>Releases the mapping or the decompressor; frames handed out become invalid.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _input.Dispose();
        }
    }

    private CaptureFormatException CreateError() => new(Path, _parser.DamageOffset, _parser.DamageProblem);
}
