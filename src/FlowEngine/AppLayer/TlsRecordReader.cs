// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace FlowEngine.AppLayer;

/// <summary>
/// Reads the first handshake message of one direction of a TLS stream (RFC 8446 §5.1, RFC 5246 §6.2): strips the
/// record headers and joins the handshake fragments of consecutive records, so a ClientHello spread over several
/// records (and, given the segments in order, over several TCP segments) comes out whole. Never throws.
/// </summary>
/// <remarks>
/// <code>
/// record:    ContentType type (22 = handshake) | ProtocolVersion legacy_record_version (0x0300-0x0304) | uint16 length | fragment
/// handshake: HandshakeType msg_type (1 client_hello, 2 server_hello) | uint24 length | body
/// </code>
/// </remarks>
public static class TlsRecordReader
{
    /// <summary>The TLS record header's length.</summary>
    public const int RecordHeaderLength = 5;

    /// <summary>The handshake message header's length.</summary>
    public const int HandshakeHeaderLength = 4;

    private const byte HandshakeContentType = 22;
    private const int MaxRecordLength = (1 << 14) + 2048;

    /// <summary>True when <paramref name="payload"/> starts with a TLS handshake record holding a ClientHello or ServerHello.</summary>
    /// <param name="payload">A direction's first payload.</param>
    /// <returns>True for TLS.</returns>
    public static bool LooksLikeTls(ReadOnlySpan<byte> payload)
        => payload.Length >= RecordHeaderLength + 1 && IsHandshakeRecord(payload) && payload[RecordHeaderLength] is 1 or 2;

    /// <summary>
    /// Copies the first handshake message of <paramref name="stream"/> (header and body) into <paramref name="destination"/>.
    /// </summary>
    /// <param name="stream">The direction's first bytes, in order.</param>
    /// <param name="destination">Receives the message; a message longer than it is cut.</param>
    /// <param name="handshake">The message's type, declared body length, bytes written, and how many stream bytes are missing.</param>
    /// <returns>False when the stream does not start with a handshake record.</returns>
    public static bool TryReadHandshake(ReadOnlySpan<byte> stream, Span<byte> destination, out TlsHandshake handshake)
    {
        handshake = default;
        if (stream.Length < RecordHeaderLength)
        {
            return false;
        }

        int pos = 0;
        int written = 0;
        int wanted = -1;
        while (true)
        {
            if (stream.Length - pos < RecordHeaderLength)
            {
                // The next record header is not here yet.
                handshake.MissingBytes = wanted < 0 ? RecordHeaderLength - (stream.Length - pos) : Math.Max(1, wanted - written + RecordHeaderLength);
                break;
            }

            if (!IsHandshakeRecord(stream[pos..]))
            {
                if (pos == 0)
                {
                    return false;
                }

                // Another content type follows before the message was whole: it stays cut.
                handshake.MissingBytes = 0;
                handshake.Interrupted = true;
                break;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(stream[(pos + 3)..]);
            ReadOnlySpan<byte> fragment = stream.Slice(pos + RecordHeaderLength, Math.Min(length, stream.Length - pos - RecordHeaderLength));
            int take = wanted < 0 ? fragment.Length : Math.Min(fragment.Length, wanted - written);
            int copy = Math.Min(take, destination.Length - written);
            if (copy > 0)
            {
                fragment[..copy].CopyTo(destination[written..]);
            }

            written += Math.Max(copy, 0);
            handshake.Consumed = pos + RecordHeaderLength + fragment.Length;
            if (wanted < 0 && written >= HandshakeHeaderLength)
            {
                handshake.Type = destination[0];
                handshake.BodyLength = (destination[1] << 16) | (destination[2] << 8) | destination[3];
                wanted = HandshakeHeaderLength + handshake.BodyLength;
            }

            if (wanted >= 0 && written >= Math.Min(wanted, destination.Length))
            {
                handshake.MissingBytes = 0;
                handshake.Cut = written < wanted;
                break;
            }

            if (fragment.Length < length)
            {
                // The record continues past the stream's end.
                handshake.MissingBytes = length - fragment.Length;
                break;
            }

            pos += RecordHeaderLength + length;
        }

        handshake.Written = written;
        return written > 0 || handshake.MissingBytes > 0;
    }

    private static bool IsHandshakeRecord(ReadOnlySpan<byte> record)
        => record[0] == HandshakeContentType && record[1] == 3 && record[2] <= 4
        && BinaryPrimitives.ReadUInt16BigEndian(record[3..]) is > 0 and <= MaxRecordLength;
}
