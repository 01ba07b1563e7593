// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FlowEngine.Packets;

namespace FlowEngine.Capture;

/// <summary>What <see cref="CaptureParser.Fill"/> stopped at.</summary>
internal enum ParseStatus
{
    /// <summary>The batch is full or had to end; more may follow.</summary>
    More,

    /// <summary>The capture ended cleanly.</summary>
    End,

    /// <summary>The capture is damaged at <see cref="CaptureParser.DamageOffset"/>.</summary>
    Damage,
}

/// <summary>Reads records of one container format from a <see cref="CaptureBuffer"/> into batches.</summary>
internal abstract unsafe class CaptureParser
{
    protected CaptureParser(CaptureBuffer input, int maxCapturedLength)
    {
        Input = input;
        MaxCapturedLength = maxCapturedLength;
    }

    /// <summary>Offset in the uncompressed capture of the damaged record, after <see cref="ParseStatus.Damage"/>.</summary>
    public long DamageOffset { get; private set; }

    /// <summary>What is wrong, after <see cref="ParseStatus.Damage"/>.</summary>
    public string DamageProblem { get; private set; } = string.Empty;

    /// <summary>Link types of the interfaces known so far (of the current section, for pcapng).</summary>
    public List<LinkType> LinkTypes { get; } = [];

    protected CaptureBuffer Input { get; }

    protected int MaxCapturedLength { get; }

    /// <summary>True when multi-byte fields must be byte-swapped to host order.</summary>
    protected bool Swap { get; set; }

    /// <summary>Appends records to <paramref name="batch"/> until it is full, the window must move, or the capture ends.</summary>
    public abstract ParseStatus Fill(PacketBatch batch);

    /// <summary>
    /// Reads what precedes the first packet (pcapng: the first section's header and interface blocks), so
    /// <see cref="LinkTypes"/> is known when the reader opens; <see cref="ParseStatus.More"/> when packets may follow.
    /// </summary>
    public virtual ParseStatus Start() => ParseStatus.More;

    /// <summary>
    /// Why a record header could not be had: the batch must end first, the capture ended cleanly between records,
    /// or it ends (or its stream failed) inside the header.
    /// </summary>
    protected ParseStatus StopAtHeader(EnsureResult result, string what, int headerLength)
        => result == EnsureResult.EndBatch ? ParseStatus.More
        : Input.Available == 0 && Input.StreamError is null ? ParseStatus.End
        : Truncated(Input.AbsolutePosition, what, headerLength);

    /// <summary>
    /// Why a whole record could not be had: the batch must end first, or the capture ends inside it. Takes a constant
    /// description: an interpolated one would be built on every batch end, not only on damage.
    /// </summary>
    protected ParseStatus StopInRecord(EnsureResult result, string what, long recordLength)
        => result == EnsureResult.EndBatch ? ParseStatus.More : Truncated(Input.AbsolutePosition, what, recordLength);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected uint ReadUInt32(byte* p)
    {
        uint value = Unsafe.ReadUnaligned<uint>(p);
        return Swap ? BinaryPrimitives.ReverseEndianness(value) : value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected ushort ReadUInt16(byte* p)
    {
        ushort value = Unsafe.ReadUnaligned<ushort>(p);
        return Swap ? BinaryPrimitives.ReverseEndianness(value) : value;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    protected ParseStatus Damage(long offset, string problem)
    {
        DamageOffset = offset;
        DamageProblem = Input.StreamError is { } streamError ? problem + " (" + streamError + ")" : problem;
        return ParseStatus.Damage;
    }

    /// <summary>Reports the end of data before <paramref name="needed"/> bytes at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    protected ParseStatus Truncated(long offset, string what, long needed) =>
        Damage(offset, $"{what} of {needed} bytes extends past end of file ({Input.AbsolutePosition + Input.Available - offset} bytes left)");
}
