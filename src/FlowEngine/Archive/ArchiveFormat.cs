// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Flows;

namespace FlowEngine.Archive;

/// <summary>
/// Byte layouts of the archive files (little-endian throughout; docs/archive.md has the diagrams).
/// </summary>
/// <remarks>
/// Segment file <c>NNNNNNNNNN.fes</c>: a 64-byte segment header, then frames back to back.
/// <code>
/// segment header (64 B)
///  0 magic "FEAS"   4 version u16   6 header size u16   8 record size u16   10 flags u16
/// 12 reserved u32  16 sequence u64  24 created (wall clock, Unix ns) i64   32..59 zero   60 CRC32C of bytes 0..59
///
/// frame = header (360 B) + payload (LZ4 block of the raw frame)
///  0 magic "FEAF"   4 version u16   6 header size u16   8 record count u32   12 record size u16   14 flags u16
/// 16 raw length u32   20 payload length u32   24 context offset u32   28 payload CRC32C u32
/// 32 min first ns i64   40 max first ns i64   48 min last ns i64   56 max last ns i64
/// 64 min IPv4 u32 (host order)   68 max IPv4 u32   72 app mask u16   74 frame flags u16 (bit 0: IPv6 address seen)
/// 76 alert count u32   80 sequence in segment u32   84..95 zero
/// 96 bloom filter 2048 bits (VNIs, VM names, ports, protocols, exact addresses)   352 zero u32   356 CRC32C of bytes 0..355
///
/// raw frame = records (count x record size bytes, byte-transposed: byte j of every record, then byte j+1 ...)
///           + string table (varint count, then varint length + UTF-8 each) at the context offset
///           + one context per record (docs/archive.md)
/// </code>
/// </remarks>
internal static class ArchiveFormat
{
    public const uint SegmentMagic = 0x53414546; // "FEAS"
    public const uint FrameMagic = 0x46414546;   // "FEAF"
    public const uint IndexMagic = 0x49414546;   // "FEAI"
    public const ushort Version = 1;

    public const int SegmentHeaderSize = 64;
    public const int FrameHeaderSize = 360;
    public const int BloomOffset = 96;
    public const int BloomBits = 2048;
    public const int BloomWords = BloomBits / 64;
    public const int BloomHashes = 3;
    public const int IndexHeaderSize = 96;

    /// <summary>Bounds on what a frame header may claim, so a damaged header cannot make a reader allocate without limit.</summary>
    public const int MaxRecordsPerFrame = 65536;
    public const int MaxRawFrameBytes = 64 << 20;

    public const string SegmentExtension = ".fes";
    public const string IndexExtension = ".fei";

    public static int RecordSize => Unsafe.SizeOf<FlowRecord>();

    public static string SegmentName(long sequence) => sequence.ToString("D10", System.Globalization.CultureInfo.InvariantCulture) + SegmentExtension;

    public static string IndexName(long sequence) => sequence.ToString("D10", System.Globalization.CultureInfo.InvariantCulture) + IndexExtension;

    /// <summary>CRC-32C (Castagnoli, reflected, initial and final XOR all ones): 0xE3069283 for "123456789".</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        ref byte p = ref MemoryMarshal.GetReference(data);
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        }

        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, Unsafe.Add(ref p, i));
        }

        return ~crc;
    }

    public static void WriteSegmentHeader(Span<byte> b, long sequence, long createdNs)
    {
        b[..SegmentHeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(b, SegmentMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(b[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(b[6..], SegmentHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b[8..], (ushort)RecordSize);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(b[24..], createdNs);
        BinaryPrimitives.WriteUInt32LittleEndian(b[60..], Crc32C(b[..60]));
    }

    /// <summary>Checks a segment header; null when good, else what is wrong.</summary>
    public static string? CheckSegmentHeader(ReadOnlySpan<byte> b, out long sequence)
    {
        sequence = -1;
        if (b.Length < SegmentHeaderSize)
        {
            return $"segment header torn: {b.Length} of {SegmentHeaderSize} bytes";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(b) != SegmentMagic)
        {
            return "not an archive segment (bad magic)";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(b[60..]) != Crc32C(b[..60]))
        {
            return "segment header checksum mismatch";
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(b[4..]);
        if (version != Version)
        {
            return $"segment version {version} is not supported (this reader knows {Version})";
        }

        int recordSize = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]);
        if (recordSize != RecordSize)
        {
            return $"segment holds {recordSize}-byte records, this build's FlowRecord is {RecordSize} bytes";
        }

        sequence = BinaryPrimitives.ReadInt64LittleEndian(b[16..]);
        return null;
    }

    /// <summary>Bloom filter bit positions of a key hash (double hashing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BloomAdd(Span<ulong> bloom, ulong hash)
    {
        uint h1 = (uint)hash;
        uint h2 = (uint)(hash >> 32) | 1;
        for (int i = 0; i < BloomHashes; i++)
        {
            uint bit = (h1 + ((uint)i * h2)) % BloomBits;
            bloom[(int)(bit >> 6)] |= 1UL << (int)(bit & 63);
        }
    }

    public static bool BloomMayContain(ReadOnlySpan<byte> bloomBytes, ulong hash)
    {
        uint h1 = (uint)hash;
        uint h2 = (uint)(hash >> 32) | 1;
        for (int i = 0; i < BloomHashes; i++)
        {
            uint bit = (h1 + ((uint)i * h2)) % BloomBits;
            if ((bloomBytes[(int)(bit >> 3)] & (1 << (int)(bit & 7))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    // Bloom keys: a tag byte and the value, hashed with XXH3.
    public const byte KeyVni = 1;
    public const byte KeyVm = 2;
    public const byte KeyPort = 3;
    public const byte KeyProtocol = 4;
    public const byte KeyAddress = 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong KeyHash(byte tag, uint value)
    {
        Span<byte> k = stackalloc byte[5];
        k[0] = tag;
        BinaryPrimitives.WriteUInt32LittleEndian(k[1..], value);
        return XxHash3.HashToUInt64(k);
    }

    public static ulong AddressHash(in Packets.IpAddress address, byte ipVersion)
    {
        Span<byte> k = stackalloc byte[18];
        k[0] = KeyAddress;
        k[1] = ipVersion;
        address.WriteBytes(k[2..]);
        return XxHash3.HashToUInt64(k);
    }

    public static ulong VmHash(ReadOnlySpan<byte> utf8Name)
    {
        Span<byte> k = stackalloc byte[1];
        k[0] = KeyVm;
        ulong seed = XxHash3.HashToUInt64(k);
        return XxHash3.HashToUInt64(utf8Name, (long)seed);
    }

    /// <summary>Writes an unsigned LEB128 number; returns the bytes used.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteVarint(Span<byte> b, uint value)
    {
        int n = 0;
        while (value >= 0x80)
        {
            b[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        b[n++] = (byte)value;
        return n;
    }
}

/// <summary>Reads the raw frame's context stream with bounds checks; any overrun throws <see cref="InvalidDataException"/>.</summary>
internal ref struct ContextReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ContextReader(ReadOnlySpan<byte> data, int position)
    {
        _data = data;
        _position = position;
    }

    public readonly int Position => _position;

    public byte ReadByte()
    {
        if ((uint)_position >= (uint)_data.Length)
        {
            Throw();
        }

        return _data[_position++];
    }

    public uint ReadVarint()
    {
        uint value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            byte b = ReadByte();
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        Throw();
        return 0;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > _data.Length - _position)
        {
            Throw();
        }

        ReadOnlySpan<byte> s = _data.Slice(_position, count);
        _position += count;
        return s;
    }

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadBytes(8));

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Throw() => throw new InvalidDataException("frame context runs past the frame");
}
