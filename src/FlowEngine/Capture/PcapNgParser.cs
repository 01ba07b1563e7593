// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FlowEngine.Packets;

namespace FlowEngine.Capture;

/// <summary>Reads pcapng: sections, interface descriptions and enhanced, simple and obsolete packet blocks.</summary>
/// <remarks>
/// <code>
/// Every block                    Section Header (type 0x0A0D0D0A)   Interface Description (type 1)
/// +0  block type                 +8  byte-order magic 0x1A2B3C4D    +8  link type (16 bits), reserved
/// +4  total length (n)           +12 major, minor version (16 bits) +12 snaplen
/// +8  body, options              +16 section length (64 bits)       +16 options (if_tsresol 9, if_tsoffset 14)
/// n-4 total length again         +24 options
///
/// Enhanced Packet (type 6)       Packet, obsolete (type 2)          Simple Packet (type 3)
/// +8  interface id               +8  interface id (16), drops (16)  +8  original length
/// +12 timestamp high, +16 low    +12 timestamp high, +16 low        +12 packet data (interface 0)
/// +20 captured length            +20 captured length
/// +24 original length            +24 original length
/// +28 packet data, padded to 4   +28 packet data, padded to 4
/// </code>
/// Every field is in the byte order of the section, recognised from its byte-order magic. Other blocks are skipped.
/// </remarks>
internal sealed unsafe class PcapNgParser : CaptureParser
{
    /// <summary>Block type of the Section Header Block (the file magic; the same in both byte orders).</summary>
    public const uint SectionHeaderType = 0x0A0D0D0A;

    /// <summary>Byte-order magic of a Section Header Block, as read in the writer's byte order.</summary>
    public const uint ByteOrderMagic = 0x1A2B3C4D;

    /// <summary>Smallest Section Header Block.</summary>
    public const int MinSectionHeaderLength = 28;

    private const uint InterfaceDescriptionType = 1;
    private const uint ObsoletePacketType = 2;
    private const uint SimplePacketType = 3;
    private const uint EnhancedPacketType = 6;

    private const int MinBlockLength = 12;
    private const int MinInterfaceDescriptionLength = 20;
    private const int MinPacketLength = 32;
    private const int MinSimplePacketLength = 16;

    private const ushort OptionEnd = 0;
    private const ushort OptionTsResol = 9;
    private const ushort OptionTsOffset = 14;

    private Interface[] _interfaces = new Interface[4];
    private int _interfaceCount;

    public PcapNgParser(CaptureBuffer input, int maxCapturedLength)
        : base(input, maxCapturedLength)
    {
    }

    /// <summary>Number of Section Header Blocks read so far.</summary>
    public int SectionCount { get; private set; }

    /// <inheritdoc/>
    public override ParseStatus Fill(PacketBatch batch) => Run(batch);

    /// <summary>Reads the blocks before the first packet block, so the first section's interfaces are known.</summary>
    public override ParseStatus Start() => Run(null);

    private ParseStatus Run(PacketBatch? batch)
    {
        CaptureBuffer input = Input;
        while (batch is null || !batch.IsFull)
        {
            bool batchEmpty = batch is null || batch.Count == 0;
            EnsureResult result = input.Ensure(MinBlockLength, batchEmpty);
            if (result != EnsureResult.Ok)
            {
                return StopAtHeader(result, "block header", MinBlockLength);
            }

            input.PrefetchAhead();
            byte* p = input.Current;
            uint type = Unsafe.ReadUnaligned<uint>(p);
            uint length;
            if (type == SectionHeaderType)
            {
                uint magic = Unsafe.ReadUnaligned<uint>(p + 8);
                bool swap;
                if (magic == ByteOrderMagic)
                {
                    swap = false;
                }
                else if (magic == BinaryPrimitives.ReverseEndianness(ByteOrderMagic))
                {
                    swap = true;
                }
                else
                {
                    return Damage(input.AbsolutePosition, $"section header has byte-order magic 0x{magic:x8} instead of 0x1a2b3c4d");
                }

                Swap = swap;
                type = SectionHeaderType;
            }
            else if (SectionCount == 0)
            {
                return Damage(input.AbsolutePosition, "file does not start with a section header block");
            }
            else
            {
                type = ReadUInt32(p);
            }

            length = ReadUInt32(p + 4);
            if (length < MinBlockLength || (length & 3) != 0)
            {
                return BadBlockLength(input.AbsolutePosition, type, length);
            }

            bool isPacket = type is EnhancedPacketType or SimplePacketType or ObsoletePacketType;
            if (isPacket && batch is null)
            {
                return ParseStatus.More;
            }

            bool buffered = isPacket || type is SectionHeaderType or InterfaceDescriptionType;
            if (buffered || length <= CaptureLimits.MaxBufferedBlockBytes)
            {
                if (length > CaptureLimits.MaxBufferedBlockBytes)
                {
                    return Damage(input.AbsolutePosition, $"block of type 0x{type:x8} has length {length}, larger than the limit of {CaptureLimits.MaxBufferedBlockBytes} bytes");
                }

                result = input.Ensure(length, batchEmpty);
                if (result != EnsureResult.Ok)
                {
                    // The message is built only on damage: a window move ends batches here in steady state.
                    return result == EnsureResult.EndBatch ? ParseStatus.More
                        : Truncated(input.AbsolutePosition, $"block of type 0x{type:x8}", length);
                }

                p = input.Current;
                uint trailer = ReadUInt32(p + length - 4);
                if (trailer != length)
                {
                    return Damage(input.AbsolutePosition, $"trailing block length {trailer} does not match leading block length {length} (block type 0x{type:x8})");
                }

                ParseStatus status = type switch
                {
                    EnhancedPacketType => ReadEnhancedPacket(p, length, batch!),
                    ObsoletePacketType => ReadObsoletePacket(p, length, batch!),
                    SimplePacketType => ReadSimplePacket(p, length, batch!),
                    SectionHeaderType => ReadSectionHeader(p, length),
                    InterfaceDescriptionType => ReadInterfaceDescription(p, length),
                    _ => ParseStatus.More,
                };
                if (status == ParseStatus.Damage)
                {
                    return status;
                }

                input.Position += length;
            }
            else
            {
                // A large block of a type not read here: skip it without holding it in memory.
                if (!batchEmpty && input.Available < length)
                {
                    return ParseStatus.More;
                }

                long start = input.AbsolutePosition;
                if (input.Skip(length - 4) != EnsureResult.Ok || input.Ensure(4, batchEmpty: true) != EnsureResult.Ok)
                {
                    return Truncated(start, $"block of type 0x{type:x8}", length);
                }

                uint trailer = ReadUInt32(input.Current);
                if (trailer != length)
                {
                    return Damage(start, $"trailing block length {trailer} does not match leading block length {length} (block type 0x{type:x8})");
                }

                input.Position += 4;
            }
        }

        return ParseStatus.More;
    }

    private ParseStatus ReadSectionHeader(byte* p, uint length)
    {
        if (length < MinSectionHeaderLength)
        {
            return BadBlockLength(Input.AbsolutePosition, SectionHeaderType, length);
        }

        ushort major = ReadUInt16(p + 12);
        if (major != 1)
        {
            return Damage(Input.AbsolutePosition, $"section header has unsupported pcapng version {major}.{ReadUInt16(p + 14)}");
        }

        SectionCount++;
        _interfaceCount = 0;
        LinkTypes.Clear();
        return ParseStatus.More;
    }

    private ParseStatus ReadInterfaceDescription(byte* p, uint length)
    {
        if (length < MinInterfaceDescriptionLength)
        {
            return BadBlockLength(Input.AbsolutePosition, InterfaceDescriptionType, length);
        }

        if (_interfaceCount == CaptureLimits.MaxInterfaces)
        {
            return Damage(Input.AbsolutePosition, $"section has more than {CaptureLimits.MaxInterfaces} interfaces");
        }

        var linkType = (LinkType)ReadUInt16(p + 8);
        uint snapLength = ReadUInt32(p + 12);
        byte tsresol = 6;
        long tsoffset = 0;
        uint offset = 16;
        uint end = length - 4;
        while (end - offset >= 4)
        {
            ushort code = ReadUInt16(p + offset);
            ushort optionLength = ReadUInt16(p + offset + 2);
            if (code == OptionEnd)
            {
                break;
            }

            uint padded = (optionLength + 3u) & ~3u;
            if (padded > end - offset - 4)
            {
                return Damage(Input.AbsolutePosition, $"interface description option {code} of {optionLength} bytes extends past the end of its block");
            }

            if (code == OptionTsResol && optionLength >= 1)
            {
                tsresol = p[offset + 4];
            }
            else if (code == OptionTsOffset && optionLength >= 8)
            {
                ulong raw = Unsafe.ReadUnaligned<ulong>(p + offset + 4);
                tsoffset = (long)(Swap ? BinaryPrimitives.ReverseEndianness(raw) : raw);
            }

            offset += 4 + padded;
        }

        if (!TimestampScale.TryCreate(tsresol, tsoffset, out TimestampScale scale))
        {
            return Damage(Input.AbsolutePosition, $"interface description has unsupported if_tsresol 0x{tsresol:x2}");
        }

        if (_interfaceCount == _interfaces.Length)
        {
            Array.Resize(ref _interfaces, _interfaces.Length * 2);
        }

        _interfaces[_interfaceCount++] = new Interface(linkType, snapLength, scale);
        LinkTypes.Add(linkType);
        return ParseStatus.More;
    }

    private ParseStatus ReadEnhancedPacket(byte* p, uint length, PacketBatch batch)
    {
        if (length < MinPacketLength)
        {
            return BadBlockLength(Input.AbsolutePosition, EnhancedPacketType, length);
        }

        uint interfaceId = ReadUInt32(p + 8);
        return AppendPacket(p, length, interfaceId, batch);
    }

    private ParseStatus ReadObsoletePacket(byte* p, uint length, PacketBatch batch)
    {
        if (length < MinPacketLength)
        {
            return BadBlockLength(Input.AbsolutePosition, ObsoletePacketType, length);
        }

        uint interfaceId = ReadUInt16(p + 8);
        return AppendPacket(p, length, interfaceId, batch);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ParseStatus AppendPacket(byte* p, uint length, uint interfaceId, PacketBatch batch)
    {
        if (interfaceId >= (uint)_interfaceCount)
        {
            return UnknownInterface(interfaceId);
        }

        uint capturedLength = ReadUInt32(p + 20);
        if (capturedLength > (uint)MaxCapturedLength)
        {
            return CapturedTooLarge(capturedLength);
        }

        if (capturedLength > length - MinPacketLength)
        {
            return CapturedPastBlock(capturedLength, length);
        }

        ref readonly Interface nic = ref _interfaces[interfaceId];
        ulong ticks = ((ulong)ReadUInt32(p + 12) << 32) | ReadUInt32(p + 16);
        uint wireLength = ReadUInt32(p + 24);
        batch.UnsafeAppend(
            (nint)(p + 28),
            (int)capturedLength,
            wireLength > int.MaxValue ? int.MaxValue : (int)wireLength,
            nic.Scale.ToNanoseconds(ticks),
            nic.LinkType,
            (int)interfaceId);
        return ParseStatus.More;
    }

    private ParseStatus ReadSimplePacket(byte* p, uint length, PacketBatch batch)
    {
        if (length < MinSimplePacketLength)
        {
            return BadBlockLength(Input.AbsolutePosition, SimplePacketType, length);
        }

        if (_interfaceCount == 0)
        {
            return UnknownInterface(0);
        }

        ref readonly Interface nic = ref _interfaces[0];
        uint wireLength = ReadUInt32(p + 8);
        uint capturedLength = Math.Min(wireLength, length - MinSimplePacketLength);
        if (nic.SnapLength != 0)
        {
            capturedLength = Math.Min(capturedLength, nic.SnapLength);
        }

        if (capturedLength > (uint)MaxCapturedLength)
        {
            return CapturedTooLarge(capturedLength);
        }

        // A simple packet block carries no timestamp.
        batch.UnsafeAppend(
            (nint)(p + 12),
            (int)capturedLength,
            wireLength > int.MaxValue ? int.MaxValue : (int)wireLength,
            0,
            nic.LinkType,
            0);
        return ParseStatus.More;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ParseStatus BadBlockLength(long offset, uint type, uint length) =>
        Damage(offset, length < MinBlockLength || (length & 3) != 0
            ? $"block of type 0x{type:x8} has length {length}, which is not a multiple of 4 of at least {MinBlockLength}"
            : $"block of type 0x{type:x8} has length {length}, too short for its fixed fields");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ParseStatus UnknownInterface(uint interfaceId) =>
        Damage(Input.AbsolutePosition, $"packet block refers to unknown interface id {interfaceId} (the section describes {_interfaceCount})");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ParseStatus CapturedTooLarge(uint capturedLength) =>
        Damage(Input.AbsolutePosition, $"packet captured length {capturedLength} is larger than the limit of {MaxCapturedLength} bytes");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ParseStatus CapturedPastBlock(uint capturedLength, uint length) =>
        Damage(Input.AbsolutePosition, $"packet captured length {capturedLength} does not fit in its block of {length} bytes");

    private readonly struct Interface(LinkType linkType, uint snapLength, TimestampScale scale)
    {
        public readonly LinkType LinkType = linkType;
        public readonly uint SnapLength = snapLength;
        public readonly TimestampScale Scale = scale;
    }
}
