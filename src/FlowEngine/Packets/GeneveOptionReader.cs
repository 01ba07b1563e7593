// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace FlowEngine.Packets;

/// <summary>One Geneve option TLV (RFC 8926 section 3.5).</summary>
/// <param name="OptionClass">Option class (namespace of the type).</param>
/// <param name="Type">Option type; the high bit marks a critical option.</param>
/// <param name="DataOffset">Offset of the option data within the options span.</param>
/// <param name="DataLength">Length of the option data in bytes (a multiple of 4).</param>
public readonly record struct GeneveOption(ushort OptionClass, byte Type, int DataOffset, int DataLength)
{
    /// <summary>True when the receiver must drop packets with this option if it does not understand it.</summary>
    public bool IsCritical => (Type & 0x80) != 0;
}

/// <summary>
/// Walks the option TLVs of a Geneve header without allocating. Obtain the span from
/// <see cref="DecodedPacket.GeneveOptionsOffset"/> and <see cref="DecodedPacket.GeneveOptionsLength"/>.
/// </summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
/// |          Option Class         |      Type     |R|R|R| Length  |
/// |                 Variable-Length Option Data                   |
/// </code>
/// </remarks>
public ref struct GeneveOptionReader
{
    private readonly ReadOnlySpan<byte> _options;
    private int _position;

    /// <summary>Creates a reader over the options area of a Geneve header.</summary>
    /// <param name="options">The options, as many bytes as the header's Opt Len says.</param>
    public GeneveOptionReader(ReadOnlySpan<byte> options)
    {
        _options = options;
        _position = 0;
    }

    /// <summary>Reads the next option.</summary>
    /// <param name="option">The option read.</param>
    /// <returns>False at the end of the options or when the next option does not fit.</returns>
    public bool TryRead(out GeneveOption option)
    {
        option = default;
        if (_options.Length - _position < 4)
        {
            return false;
        }

        ReadOnlySpan<byte> o = _options[_position..];
        int dataLength = (o[3] & 0x1F) * 4;
        if (o.Length < 4 + dataLength)
        {
            return false;
        }

        option = new GeneveOption(BinaryPrimitives.ReadUInt16BigEndian(o), o[2], _position + 4, dataLength);
        _position += 4 + dataLength;
        return true;
    }

    /// <summary>Returns the data of an option read by this reader.</summary>
    /// <param name="option">An option returned by <see cref="TryRead"/>.</param>
    /// <returns>The option data.</returns>
    public readonly ReadOnlySpan<byte> GetData(in GeneveOption option) => _options.Slice(option.DataOffset, option.DataLength);

    /// <summary>True when the options area is an exact sequence of whole TLVs.</summary>
    /// <param name="options">The options area.</param>
    /// <returns>True when well formed.</returns>
    public static bool IsWellFormed(ReadOnlySpan<byte> options)
    {
        int position = 0;
        while (position < options.Length)
        {
            if (options.Length - position < 4)
            {
                return false;
            }

            position += 4 + ((options[position + 3] & 0x1F) * 4);
        }

        return position == options.Length;
    }
}
