// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>The first handshake message of a TLS stream, as <see cref="TlsRecordReader.TryReadHandshake"/> found it.</summary>
public struct TlsHandshake
{
    /// <summary>The message type (1 ClientHello, 2 ServerHello); 0 before its header was seen.</summary>
    public byte Type;

    /// <summary>The body length the message header declares.</summary>
    public int BodyLength;

    /// <summary>Bytes of the message (header included) written to the destination.</summary>
    public int Written;

    /// <summary>Stream bytes still missing for the whole message (0 when it is whole, or cut for good).</summary>
    public int MissingBytes;

    /// <summary>Stream bytes read (record headers included).</summary>
    public int Consumed;

    /// <summary>True when the message was longer than the destination.</summary>
    public bool Cut;

    /// <summary>True when a record of another type came before the message was whole.</summary>
    public bool Interrupted;

    /// <summary>True when the whole message is in the destination.</summary>
    public readonly bool IsComplete => Type != 0 && MissingBytes == 0 && !Cut && !Interrupted && Written >= TlsRecordReader.HandshakeHeaderLength + BodyLength;
}
