// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Capture;

/// <summary>Reads the classic libpcap format.</summary>
/// <remarks>
/// <code>
/// File header (24 bytes)                     Record header (16 bytes), then captured bytes
/// +0  magic      a1b2c3d4 (us) a1b23c4d (ns)  +0  ts_sec      seconds since the Unix epoch
/// +4  version    2.4                          +4  ts_frac     microseconds or nanoseconds
/// +8  thiszone, +12 sigfigs (unused)          +8  incl_len    bytes captured
/// +16 snaplen                                 +12 orig_len    length on the wire
/// +20 network    link type in the low 16 bits
/// </code>
/// All fields are in the writer's byte order, recognised from the magic.
/// </remarks>
internal sealed unsafe class PcapParser : CaptureParser
{
    /// <summary>Bytes in the file header.</summary>
    public const int FileHeaderLength = 24;

    /// <summary>Magic of the microsecond format, as read in the writer's byte order.</summary>
    public const uint MicrosecondMagic = 0xa1b2c3d4;

    /// <summary>Magic of the nanosecond format, as read in the writer's byte order.</summary>
    public const uint NanosecondMagic = 0xa1b23c4d;

    private const int RecordHeaderLength = 16;

    private readonly LinkType _linkType;
    private readonly uint _fractionToNs;

    /// <summary>Reads the file header at the start of <paramref name="input"/> (caller checked its magic and length).</summary>
    public PcapParser(CaptureBuffer input, int maxCapturedLength, bool swap, bool nanosecond)
        : base(input, maxCapturedLength)
    {
        Swap = swap;
        _fractionToNs = nanosecond ? 1u : 1000u;
        _linkType = (LinkType)(ReadUInt32(input.Current + 20) & 0xffff);
        input.Position += FileHeaderLength;
        LinkTypes.Add(_linkType);
    }

    /// <inheritdoc/>
    public override ParseStatus Fill(PacketBatch batch)
    {
        CaptureBuffer input = Input;
        while (!batch.IsFull)
        {
            EnsureResult result = input.Ensure(RecordHeaderLength, batch.Count == 0);
            if (result != EnsureResult.Ok)
            {
                return StopAtHeader(result, "record header", RecordHeaderLength);
            }

            input.PrefetchAhead();
            byte* p = input.Current;
            uint capturedLength = ReadUInt32(p + 8);
            if (capturedLength > (uint)MaxCapturedLength)
            {
                return CapturedTooLarge(input.AbsolutePosition, capturedLength);
            }

            result = input.Ensure(RecordHeaderLength + capturedLength, batch.Count == 0);
            if (result != EnsureResult.Ok)
            {
                return StopInRecord(result, "record", RecordHeaderLength + capturedLength);
            }

            p = input.Current;
            uint wireLength = ReadUInt32(p + 12);
            long timestampNs = (ReadUInt32(p) * 1_000_000_000L) + ((long)ReadUInt32(p + 4) * _fractionToNs);
            batch.UnsafeAppend(
                (nint)(p + RecordHeaderLength),
                (int)capturedLength,
                wireLength > int.MaxValue ? int.MaxValue : (int)wireLength,
                timestampNs,
                _linkType,
                0);
            input.Position += RecordHeaderLength + capturedLength;
        }

        return ParseStatus.More;
    }

    private ParseStatus CapturedTooLarge(long offset, uint capturedLength) =>
        Damage(offset, $"record captured length {capturedLength} is larger than the limit of {MaxCapturedLength} bytes");
}
