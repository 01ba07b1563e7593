// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.IO.Compression;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Flows.Internal;

namespace FlowEngine.Capture;

/// <summary>Result of <see cref="CaptureBuffer.Ensure"/> and <see cref="CaptureBuffer.Skip"/>.</summary>
internal enum EnsureResult
{
    /// <summary>The bytes are in the window.</summary>
    Ok,

    /// <summary>The bytes are not in the window and refilling would move frames the current batch points at: end the batch.</summary>
    EndBatch,

    /// <summary>The input ends (or is corrupt) before the bytes.</summary>
    EndOfData,
}

/// <summary>
/// A window of the uncompressed capture: the whole memory-mapped file, or a pinned buffer that a gzip stream or the
/// file itself (buffered reads) refills.
/// Parsers read at <see cref="Current"/> after <see cref="Ensure"/> and advance <see cref="Position"/>.
/// </summary>
/// <remarks>
/// The window moves only when the batch being filled is empty, so every frame of a batch stays valid until the
/// next ReadBatch call.
/// </remarks>
internal sealed unsafe class CaptureBuffer : IDisposable
{
    // Bytes ahead of the parser that PrefetchAhead keeps requested: about eight typical records.
    private const long PrefetchDistance = 2048;

    // Invariant: _base points at _length readable bytes: the mapped view (owned by _view, released in Dispose) or
    // the pinned _buffer array (alive as long as this object) that _stream fills. Frames handed out point into that
    // memory.
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly Stream? _stream;
    private byte[]? _buffer;
    private byte* _base;

    // Window offset up to which lines were prefetched (never behind the request it last made; 0 after a move).
    private long _prefetchedTo;
    private long _length;
    private bool _streamEnded;
    private bool _disposed;

    private CaptureBuffer(MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer, long length)
    {
        _map = map;
        _view = view;
        _base = basePointer;
        _length = length;
        _streamEnded = true;
    }

    private CaptureBuffer(Stream stream, int bufferBytes)
    {
        _stream = stream;
        _buffer = GC.AllocateUninitializedArray<byte>(bufferBytes, pinned: true);
        _base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer));
    }

    /// <summary>Position of the parser, relative to the window start.</summary>
    public long Position { get; set; }

    /// <summary>Bytes in the window after <see cref="Position"/>.</summary>
    public long Available
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _length - Position;
    }

    /// <summary>Address of the byte at <see cref="Position"/>.</summary>
    public byte* Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _base + Position;
    }

    /// <summary>
    /// Hints the CPU to fetch the window's next <see cref="PrefetchDistance"/> bytes after <see cref="Position"/>
    /// (each line once). Records are read one after another, each position known only from the previous record's
    /// length, so without it every record's first line is a dependent miss, and the hardware prefetcher stops at
    /// every 4 KiB page of a mapped file.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchAhead()
    {
        long target = Math.Min(Position + PrefetchDistance, _length);
        long line = Math.Max(_prefetchedTo, Position);
        while (line < target)
        {
            Prefetch.Line(ref _base[line]);
            line += 64;
        }

        _prefetchedTo = line;
    }

    /// <summary>Offset in the uncompressed capture of the window start.</summary>
    public long WindowOffset { get; private set; }

    /// <summary>Offset in the uncompressed capture of <see cref="Position"/>.</summary>
    public long AbsolutePosition => WindowOffset + Position;

    /// <summary>True for a gzip-compressed file.</summary>
    public bool IsCompressed => _stream is GZipStream;

    /// <summary>Why the decompressor stopped early, or null.</summary>
    public string? StreamError { get; private set; }

    /// <summary>Maps <paramref name="file"/> (not empty), taking ownership of it.</summary>
    public static CaptureBuffer Map(FileStream file)
    {
        long length = file.Length;
        MemoryMappedFile map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new CaptureBuffer(map, view, pointer + view.PointerOffset, length);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Wraps a gzip stream, taking ownership of it, and fills the first window.</summary>
    public static CaptureBuffer Decompress(GZipStream gzip, int bufferBytes) => FromStream(gzip, bufferBytes);

    /// <summary>Reads a file in blocks into one reused buffer, taking ownership of it, and fills the first window.</summary>
    public static CaptureBuffer Read(FileStream file, int bufferBytes) => FromStream(file, bufferBytes);

    private static CaptureBuffer FromStream(Stream stream, int bufferBytes)
    {
        var buffer = new CaptureBuffer(stream, bufferBytes);
        buffer.Refill(0);
        return buffer;
    }

    /// <summary>Makes <paramref name="count"/> bytes after <see cref="Position"/> available.</summary>
    /// <param name="count">Bytes needed (at most <see cref="CaptureLimits.MaxBufferedBlockBytes"/>).</param>
    /// <param name="batchEmpty">True when no frame of the current batch points into the window.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public EnsureResult Ensure(long count, bool batchEmpty)
    {
        if (_length - Position >= count)
        {
            return EnsureResult.Ok;
        }

        return EnsureSlow(count, batchEmpty);
    }

    /// <summary>
    /// Advances <see cref="Position"/> by <paramref name="count"/> bytes, reading past the window if needed.
    /// Caller must ensure: no frame of the current batch points into the window.
    /// </summary>
    /// <param name="count">Bytes to skip.</param>
    public EnsureResult Skip(long count)
    {
        if (_length - Position >= count)
        {
            Position += count;
            return EnsureResult.Ok;
        }

        return _streamEnded ? EnsureResult.EndOfData : SkipStream(count);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _base = null;
        _length = 0;
        Position = 0;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _map?.Dispose();
        _stream?.Dispose();
        _buffer = null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private EnsureResult EnsureSlow(long count, bool batchEmpty)
    {
        if (_streamEnded)
        {
            return EnsureResult.EndOfData;
        }

        if (!batchEmpty)
        {
            return EnsureResult.EndBatch;
        }

        Refill(count);
        return _length - Position >= count ? EnsureResult.Ok : EnsureResult.EndOfData;
    }

    // Moves the unread bytes to the start of the buffer, grows it when one record needs more, and reads until it is
    // full or the stream ends.
    private void Refill(long count)
    {
        Debug.Assert(_buffer is not null && _stream is not null, "Only a streaming buffer refills.");
        long unread = _length - Position;
        if (Position > 0 && unread > 0)
        {
            Buffer.MemoryCopy(_base + Position, _base, _buffer.Length, unread);
        }

        WindowOffset += Position;
        Position = 0;
        _prefetchedTo = 0;
        _length = unread;
        if (count > _buffer.Length)
        {
            Grow(count);
        }

        while (_length < _buffer.Length && !_streamEnded)
        {
            int read = ReadStream(new Span<byte>(_base + _length, (int)(_buffer.Length - _length)));
            _length += read;
        }
    }

    private EnsureResult SkipStream(long count)
    {
        Debug.Assert(_buffer is not null, "Only a streaming buffer skips past its window.");
        count -= _length - Position;
        WindowOffset += _length;
        Position = 0;
        _prefetchedTo = 0;
        _length = 0;
        while (count > 0)
        {
            int read = ReadStream(new Span<byte>(_base, (int)Math.Min(count, _buffer.Length)));
            if (read == 0)
            {
                return EnsureResult.EndOfData;
            }

            WindowOffset += read;
            count -= read;
        }

        return EnsureResult.Ok;
    }

    private int ReadStream(Span<byte> destination)
    {
        int read;
        try
        {
            read = _stream!.Read(destination);
        }
        catch (InvalidDataException e)
        {
            StreamError = "corrupt gzip stream: " + e.Message;
            read = 0;
        }

        if (read == 0)
        {
            _streamEnded = true;
        }

        return read;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(long count)
    {
        long size = Math.Max(count, Math.Min((long)_buffer!.Length * 2, CaptureLimits.MaxBufferedBlockBytes));
        byte[] bigger = GC.AllocateUninitializedArray<byte>((int)size, pinned: true);
        byte* biggerBase = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(bigger));
        Buffer.MemoryCopy(_base, biggerBase, size, _length);
        _buffer = bigger;
        _base = biggerBase;
    }
}
