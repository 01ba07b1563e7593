// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace FlowEngine.Benchmarks.Synthetic;

/// <summary>
/// Writes a classic libpcap file: little-endian, microsecond timestamps, version 2.4.
/// </summary>
/// <remarks>
/// Global header: magic(4) version major(2) minor(2) thiszone(4) sigfigs(4) snaplen(4) linktype(4).
/// Record header: ts_sec(4) ts_usec(4) incl_len(4) orig_len(4), then incl_len bytes.
/// </remarks>
public sealed class PcapWriter : IDisposable
{
    private const uint LinkTypeEthernet = 1;
    private const int SnapLength = 262144;
    private const uint MagicMicroseconds = 0xA1B2C3D4;
    private readonly Stream _stream;
    private readonly byte[] _recordHeader = new byte[16];

    /// <summary>Starts an Ethernet capture on <paramref name="stream"/> (owned by the writer) and writes the global header.</summary>
    /// <param name="stream">Destination.</param>
    public PcapWriter(Stream stream)
    {
        _stream = stream;
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, MagicMicroseconds);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], LinkTypeEthernet);
        _stream.Write(h);
    }

    /// <summary>Creates <paramref name="path"/> and writes the global header.</summary>
    /// <param name="path">File to create or overwrite.</param>
    /// <returns>The writer.</returns>
    public static PcapWriter Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20));

    /// <summary>Appends one packet record.</summary>
    /// <param name="frame">Captured bytes.</param>
    /// <param name="timestampNs">Nanoseconds since the Unix epoch; truncated to microseconds.</param>
    /// <param name="wireLength">Length on the wire; the captured length when smaller.</param>
    public void Write(ReadOnlySpan<byte> frame, long timestampNs, int wireLength)
    {
        long us = timestampNs / 1000;
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader, (uint)(us / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(4), (uint)(us % 1_000_000));
        BinaryPrimitives.WriteInt32LittleEndian(_recordHeader.AsSpan(8), frame.Length);
        BinaryPrimitives.WriteInt32LittleEndian(_recordHeader.AsSpan(12), Math.Max(wireLength, frame.Length));
        _stream.Write(_recordHeader);
        _stream.Write(frame);
    }

    /// <summary>Writes every frame of <paramref name="capture"/>.</summary>
    /// <param name="capture">Frames to write.</param>
    public void Write(SyntheticCapture capture)
    {
        for (int i = 0; i < capture.Count; i++)
        {
            Write(capture.GetFrame(i), capture.TimestampsNs[i], capture.WireLengths[i]);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stream.Flush();
        _stream.Dispose();
    }
}
