// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using FlowEngine.Flows;
using K4os.Compression.LZ4;

namespace FlowEngine.Archive;

/// <summary>Reads one frame from a segment file into reusable buffers: checks, decompresses, un-transposes.</summary>
internal sealed class FrameDecoder
{
    private byte[] _payload = new byte[1 << 16];
    private byte[] _raw = new byte[1 << 17];
    private FlowRecord[] _records = new FlowRecord[256];
    private readonly byte[] _header = new byte[ArchiveFormat.FrameHeaderSize];

    private int _count;

    public ReadOnlySpan<FlowRecord> Records => _records.AsSpan(0, _count);

    public string[] Strings { get; private set; } = [];

    /// <summary>The raw frame; contexts start at <see cref="ContextStart"/>.</summary>
    public ReadOnlySpan<byte> Raw => _raw.AsSpan(0, RawLength);

    public int RawLength { get; private set; }

    public int ContextStart { get; private set; }

    /// <summary>Reads the frame; null when good, else what is wrong (the frame is then not used).</summary>
    public string? Read(FileStream file, FrameInfo frame)
    {
        try
        {
            if (frame.End > file.Length)
            {
                return $"torn frame: its payload needs {frame.PayloadLength} bytes, the file ends {file.Length - frame.Offset - ArchiveFormat.FrameHeaderSize} bytes after its header";
            }

            _count = 0;
            file.Position = frame.Offset;
            file.ReadExactly(_header);
            if (FrameInfo.Check(_header) is string badHeader)
            {
                return badHeader;
            }

            if (!_header.AsSpan().SequenceEqual(frame.Header))
            {
                return "frame header differs from the index";
            }

            if (_payload.Length < frame.PayloadLength)
            {
                _payload = new byte[Math.Max(frame.PayloadLength, _payload.Length * 2)];
            }

            Span<byte> payload = _payload.AsSpan(0, frame.PayloadLength);
            file.ReadExactly(payload);
            if (ArchiveFormat.Crc32C(payload) != frame.PayloadCrc)
            {
                return "frame payload checksum mismatch";
            }

            if (_raw.Length < frame.RawLength)
            {
                _raw = new byte[Math.Max(frame.RawLength, _raw.Length * 2)];
            }

            int decoded = LZ4Codec.Decode(payload, _raw.AsSpan(0, frame.RawLength));
            if (decoded != frame.RawLength)
            {
                return $"frame payload does not decompress to its {frame.RawLength} bytes";
            }

            RawLength = frame.RawLength;
            int count = frame.RecordCount;
            if (_records.Length < count)
            {
                _records = new FlowRecord[Math.Max(count, _records.Length * 2)];
            }

            Untranspose(_raw.AsSpan(0, frame.ContextOffset), MemoryMarshal.AsBytes(_records.AsSpan(0, count)), count, ArchiveFormat.RecordSize);
            _count = count;
            var reader = new ContextReader(Raw, frame.ContextOffset);
            uint strings = reader.ReadVarint();
            if (strings > (uint)count * 3)
            {
                return "frame string table larger than its records can use";
            }

            string[] table = new string[strings];
            for (int i = 0; i < table.Length; i++)
            {
                table[i] = Encoding.UTF8.GetString(reader.ReadBytes((int)reader.ReadVarint()));
            }

            Strings = table;
            ContextStart = reader.Position;
            return null;
        }
        catch (InvalidDataException e)
        {
            return e.Message;
        }
        catch (EndOfStreamException)
        {
            return "torn frame: the file ends inside it";
        }
        catch (IOException e)
        {
            return "read error: " + e.Message;
        }
        catch (ArgumentException)
        {
            // Only an index that passed its checksum yet names impossible offsets gets here.
            return "frame offset or length out of range";
        }
    }

    /// <summary>Byte j of record i at <c>j * count + i</c>: like bytes of neighbouring records sit together and compress.</summary>
    public static void Transpose(ReadOnlySpan<byte> records, Span<byte> transposed, int count, int size)
    {
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> r = records.Slice(i * size, size);
            for (int j = 0; j < r.Length; j++)
            {
                transposed[(j * count) + i] = r[j];
            }
        }
    }

    public static void Untranspose(ReadOnlySpan<byte> transposed, Span<byte> records, int count, int size)
    {
        for (int j = 0; j < size; j++)
        {
            ReadOnlySpan<byte> column = transposed.Slice(j * count, count);
            for (int i = 0; i < column.Length; i++)
            {
                records[(i * size) + j] = column[i];
            }
        }
    }
}
