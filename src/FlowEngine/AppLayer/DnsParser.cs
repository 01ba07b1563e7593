// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using FlowEngine.Packets;

namespace FlowEngine.AppLayer;

/// <summary>
/// Reads DNS messages (RFC 1035 §4.1) from UDP payloads and TCP segments: header, first question, and the answers'
/// A/AAAA addresses. Never throws and never reads past its input; compression pointers are followed at most
/// <see cref="MaxPointerHops"/> times per name, so a pointer loop ends.
/// </summary>
/// <remarks>
/// <code>
///                                 1  1  1  1  1  1
///   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |                      ID                       |
/// |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
/// |                    QDCOUNT                    |
/// |                    ANCOUNT                    |
/// |                    NSCOUNT                    |
/// |                    ARCOUNT                    |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// question: QNAME (labels or a pointer), QTYPE (2), QCLASS (2)
/// answer:   NAME, TYPE (2), CLASS (2), TTL (4), RDLENGTH (2), RDATA
/// </code>
/// Names are written dotted, without the trailing dot; bytes outside printable ASCII are written as <c>\xNN</c>, as
/// Zeek's logs write them.
/// </remarks>
public static class DnsParser
{
    /// <summary>Compression pointers followed per name at most.</summary>
    public const int MaxPointerHops = 32;

    private const int HeaderLength = 12;
    private const int IdOffset = 0;
    private const int FlagsOffset = 2;
    private const int QuestionCountOffset = 4;
    private const int AnswerCountOffset = 6;
    private const int AuthorityCountOffset = 8;
    private const int AdditionalCountOffset = 10;
    private const int MaxWireNameLength = 255;
    private const ushort TypeA = 1, TypeAaaa = 28;

    /// <summary>Reads one DNS message.</summary>
    /// <param name="message">The message (a UDP payload).</param>
    /// <param name="queryName">Receives the first question's name; may be empty (the name is then only measured).</param>
    /// <param name="info">What was read.</param>
    /// <returns>False unless the header and (when there is one) the first question parse.</returns>
    public static bool TryParse(ReadOnlySpan<byte> message, Span<byte> queryName, out DnsMessageInfo info)
    {
        info = default;
        if (message.Length < HeaderLength)
        {
            return false;
        }

        info.TransactionId = BinaryPrimitives.ReadUInt16BigEndian(message[IdOffset..]);
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(message[FlagsOffset..]);
        info.IsResponse = (flags & 0x8000) != 0;
        info.Opcode = (byte)((flags >> 11) & 0xF);
        info.Authoritative = (flags & 0x0400) != 0;
        info.TruncatedBySender = (flags & 0x0200) != 0;
        info.RecursionDesired = (flags & 0x0100) != 0;
        info.RecursionAvailable = (flags & 0x0080) != 0;
        info.ResponseCode = (byte)(flags & 0xF);
        info.QuestionCount = BinaryPrimitives.ReadUInt16BigEndian(message[QuestionCountOffset..]);
        info.AnswerCount = BinaryPrimitives.ReadUInt16BigEndian(message[AnswerCountOffset..]);
        info.AuthorityCount = BinaryPrimitives.ReadUInt16BigEndian(message[AuthorityCountOffset..]);
        info.AdditionalCount = BinaryPrimitives.ReadUInt16BigEndian(message[AdditionalCountOffset..]);
        int written = 0;
        bool cut = false;
        if (info.QuestionCount == 0)
        {
            // A response without a question (mDNS announcements): its first answer's owner name names it, as in Zeek's
            // dns.log; the query type stays 0.
            if (info.AnswerCount != 0 && ReadName(message, HeaderLength, queryName, ref written, ref cut, out _, out info.LabelCount, out info.LongestLabel))
            {
                info.QueryNameLength = written;
                info.QueryNameCut = cut;
            }

            ReadAnswers(message, HeaderLength, ref info);
            return true;
        }

        if (!ReadName(message, HeaderLength, queryName, ref written, ref cut, out int end, out info.LabelCount, out info.LongestLabel)
            || end + 4 > message.Length)
        {
            info.QueryNameLength = written;
            info.QueryNameCut = cut;
            info.IsTruncated = true;
            return false;
        }

        info.QueryNameLength = written;
        info.QueryNameCut = cut;
        info.QueryType = BinaryPrimitives.ReadUInt16BigEndian(message[end..]);
        info.QueryClass = BinaryPrimitives.ReadUInt16BigEndian(message[(end + 2)..]);
        int pos = end + 4;

        // Further questions are skipped, then the answers read.
        for (int q = 1; q < info.QuestionCount; q++)
        {
            if (!SkipName(message, pos, out pos) || pos + 4 > message.Length)
            {
                info.IsTruncated = true;
                return true;
            }

            pos += 4;
        }

        ReadAnswers(message, pos, ref info);
        return true;
    }

    /// <summary>Reads the first DNS message of a TCP segment (RFC 1035 §4.2.2: a 2-byte length, then the message).</summary>
    /// <param name="segmentPayload">The segment's payload, starting at a message's length prefix.</param>
    /// <param name="queryName">Receives the first question's name; may be empty.</param>
    /// <param name="info">What was read; <see cref="DnsMessageInfo.IsTruncated"/> when the message continues past the segment.</param>
    /// <param name="consumed">Bytes of the segment the message takes (prefix included), or all of it when it is cut.</param>
    /// <returns>False unless the prefix, the header and the first question parse.</returns>
    public static bool TryParseTcp(ReadOnlySpan<byte> segmentPayload, Span<byte> queryName, out DnsMessageInfo info, out int consumed)
    {
        consumed = 0;
        if (segmentPayload.Length < 2 + HeaderLength)
        {
            info = default;
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(segmentPayload);
        if (length < HeaderLength)
        {
            info = default;
            return false;
        }

        int present = Math.Min(length, segmentPayload.Length - 2);
        bool ok = TryParse(segmentPayload.Slice(2, present), queryName, out info);
        if (present < length)
        {
            info.IsTruncated = true;
        }

        consumed = 2 + present;
        return ok;
    }

    private static void ReadAnswers(ReadOnlySpan<byte> message, int pos, ref DnsMessageInfo info)
    {
        for (int a = 0; a < info.AnswerCount; a++)
        {
            if (!SkipName(message, pos, out pos) || pos + 10 > message.Length)
            {
                info.IsTruncated = true;
                return;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[pos..]);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(pos + 4)..]);
            int rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(pos + 8)..]);
            pos += 10;
            if (rdLength > message.Length - pos)
            {
                info.IsTruncated = true;
                return;
            }

            if (info.AnswersParsed == 0)
            {
                info.FirstAnswerType = type;
                info.FirstAnswerTtl = ttl;
            }

            if (info.AnswerAddressCount < AppMetadataLimits.DnsAddresses)
            {
                if (type == TypeA && rdLength == 4)
                {
                    info.AnswerAddresses[info.AnswerAddressCount] = IpAddress.ReadV4(message.Slice(pos, 4));
                    info.AnswerAddressVersions[info.AnswerAddressCount++] = 4;
                }
                else if (type == TypeAaaa && rdLength == 16)
                {
                    info.AnswerAddresses[info.AnswerAddressCount] = IpAddress.ReadV6(message.Slice(pos, 16));
                    info.AnswerAddressVersions[info.AnswerAddressCount++] = 6;
                }
            }

            info.AnswerDataBytes += rdLength;
            info.AnswersParsed++;
            pos += rdLength;
        }
    }

    // Walks past a name without writing it: only the label lengths and pointers are read.
    private static bool SkipName(ReadOnlySpan<byte> message, int offset, out int end)
    {
        end = -1;
        int pos = offset;
        int hops = 0;
        int wire = 0;
        while ((uint)pos < (uint)message.Length)
        {
            int length = message[pos];
            if ((length & 0xC0) == 0xC0)
            {
                if (pos + 1 >= message.Length || ++hops > MaxPointerHops)
                {
                    return false;
                }

                if (end < 0)
                {
                    end = pos + 2;

                    // The rest of the name was checked where it first appeared, or will be: an answer's owner name is
                    // nearly always one pointer, and where it ends is all the walk needs.
                    return true;
                }

                pos = ((length & 0x3F) << 8) | message[pos + 1];
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                return false;
            }

            if (length == 0)
            {
                if (end < 0)
                {
                    end = pos + 1;
                }

                return true;
            }

            wire += length + 1;
            if (wire > MaxWireNameLength || pos + 1 + length > message.Length)
            {
                return false;
            }

            pos += 1 + length;
        }

        return false;
    }

    // Reads the name at offset into dest (escaped, dotted); end is the offset just after the name where it began (after
    // the first pointer when there is one).
    private static bool ReadName(ReadOnlySpan<byte> message, int offset, Span<byte> dest, ref int written, ref bool cut, out int end, out int labels, out int longest)
    {
        end = -1;
        labels = 0;
        longest = 0;
        int pos = offset;
        int hops = 0;
        int wire = 0;
        while (true)
        {
            if ((uint)pos >= (uint)message.Length)
            {
                return false;
            }

            int length = message[pos];
            if ((length & 0xC0) == 0xC0)
            {
                if (pos + 1 >= message.Length || ++hops > MaxPointerHops)
                {
                    return false;
                }

                if (end < 0)
                {
                    end = pos + 2;
                }

                pos = ((length & 0x3F) << 8) | message[pos + 1];
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                // The extended label types (RFC 6891 §5) are not used in practice.
                return false;
            }

            if (length == 0)
            {
                if (end < 0)
                {
                    end = pos + 1;
                }

                return true;
            }

            wire += length + 1;
            if (wire > MaxWireNameLength || pos + 1 + length > message.Length)
            {
                return false;
            }

            if (labels > 0)
            {
                Put(dest, ref written, ref cut, (byte)'.');
            }

            ReadOnlySpan<byte> label = message.Slice(pos + 1, length);
            if (dest.IsEmpty || (label.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) < 0 && dest.Length - written >= length))
            {
                // Only measured (no buffer), or printable throughout (nearly every name): one copy at most.
                if (!dest.IsEmpty)
                {
                    label.CopyTo(dest[written..]);
                    written += length;
                }

                labels++;
                longest = Math.Max(longest, length);
                pos += 1 + length;
                continue;
            }

            foreach (byte b in label)
            {
                if (b is < 0x20 or > 0x7E)
                {
                    Put(dest, ref written, ref cut, (byte)'\\');
                    Put(dest, ref written, ref cut, (byte)'x');
                    Put(dest, ref written, ref cut, Hex(b >> 4));
                    Put(dest, ref written, ref cut, Hex(b & 0xF));
                }
                else
                {
                    Put(dest, ref written, ref cut, b);
                }
            }

            labels++;
            longest = Math.Max(longest, length);
            pos += 1 + length;
        }
    }

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static void Put(Span<byte> dest, ref int written, ref bool cut, byte b)
    {
        if (written < dest.Length)
        {
            dest[written++] = b;
        }
        else if (!dest.IsEmpty)
        {
            cut = true;
        }
    }
}
