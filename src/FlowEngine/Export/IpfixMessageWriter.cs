// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using FlowEngine.AppLayer;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Export;

/// <summary>
/// Encodes flow records into IPFIX messages (RFC 7011) in one reused buffer: a message is a header and one data set
/// per template in use; the templates go in messages of their own (<see cref="WriteTemplateMessage"/>).
/// </summary>
/// <remarks>
/// <code>
/// Message header (RFC 7011 §3.1)                 Set header (§3.3.2)
///  0                   1                   2                   3
/// +-------------------------------+-------------------------------+
/// |       Version Number (10)     |            Length             |
/// +-------------------------------+-------------------------------+
/// |                           Export Time                         |
/// +---------------------------------------------------------------+
/// |                       Sequence Number                         |
/// +---------------------------------------------------------------+
/// |                    Observation Domain ID                      |
/// +-------------------------------+-------------------------------+
/// |          Set ID               |          Length               |
/// +-------------------------------+-------------------------------+
/// </code>
/// Field order in the templates: addresses, ports, protocol, ipVersion, start and end, octets and packets, the
/// reverse octets, packets and flags (biflow), tcpControlBits, flowEndReason, vlanId, layer2SegmentId, the virtual
/// network, the application metadata. The reverse flags come before the forward flags because nfdump 1.7.1 stores
/// both in one field and keeps the last it reads.
/// </remarks>
internal sealed class IpfixMessageWriter
{
    public const int HeaderBytes = 16;
    public const int SetHeaderBytes = 4;
    public const ushort TemplateSetId = 2;
    public const ushort TemplateIdV4 = 256;
    public const ushort TemplateIdV6 = 257;
    public const uint ReversePen = 29305;
    private const int StringFields = 5;

    private readonly byte[] _buffer;
    private readonly byte[] _templates;
    private readonly int _maxString;
    private readonly uint _pen;
    private readonly uint _domain;
    private readonly bool _biflow;
    private readonly bool _metadata;
    private int _position = HeaderBytes;
    private int _setStart = -1;
    private ushort _setId;

    public IpfixMessageWriter(IpfixExporterOptions options, bool withMetadata)
    {
        _maxString = options.MaxStringBytes;
        _pen = options.EnterpriseNumber;
        _domain = options.ObservationDomainId;
        _biflow = options.Biflow;
        _metadata = withMetadata;
        _buffer = GC.AllocateUninitializedArray<byte>(options.MaxMessageBytes, pinned: true);
        _templates = BuildTemplateSet(_pen, _biflow, _metadata);
        MaxRecordBytes = FixedRecordBytes(6, _biflow, _metadata) + (_metadata ? StringFields * StringBytes(_maxString) : 0);
        Debug.Assert(HeaderBytes + SetHeaderBytes + MaxRecordBytes <= _buffer.Length, "Validate checks the message size");
    }

    /// <summary>Records in the message being written.</summary>
    public int RecordCount { get; private set; }

    /// <summary>The most bytes one data record takes.</summary>
    public int MaxRecordBytes { get; }

    /// <summary>The template set (set header included) every template message carries.</summary>
    public ReadOnlySpan<byte> TemplateSet => _templates;

    /// <summary>The smallest message size that holds the template set and the largest data record (metadata on).</summary>
    public static int MinimumMessageBytes(IpfixExporterOptions options)
    {
        int record = FixedRecordBytes(6, options.Biflow, true) + (StringFields * StringBytes(options.MaxStringBytes));
        int templates = BuildTemplateSet(options.EnterpriseNumber, options.Biflow, true).Length;
        return HeaderBytes + Math.Max(templates, SetHeaderBytes + record);
    }

    /// <summary>
    /// Appends one record (or, with <paramref name="reverse"/>, the responder's direction of it as a uniflow record);
    /// false when the message has no room for it: finish the message and append again.
    /// </summary>
    [SkipLocalsInit] // avoid zeroing the address buffer
    public bool TryAppend(in FlowRecord r, bool reverse, AppMetadata metadata)
    {
        bool v6 = r.IpVersion == 6;
        ushort setId = v6 ? TemplateIdV6 : TemplateIdV4;
        ReadOnlySpan<byte> dns = default, host = default, sni = default, ja3 = default, ja4 = default;
        int size = FixedRecordBytes(v6 ? 6 : 4, _biflow, _metadata);
        if (_metadata)
        {
            dns = Truncate(metadata.Get(AppField.DnsQuery));
            host = Truncate(metadata.Get(AppField.HttpHost));
            sni = Truncate(metadata.Get(AppField.TlsSni));
            ja3 = Truncate(metadata.Get(AppField.Ja3));
            ja4 = Truncate(metadata.Get(AppField.Ja4));
            size += StringBytes(dns.Length) + StringBytes(host.Length) + StringBytes(sni.Length) + StringBytes(ja3.Length) + StringBytes(ja4.Length);
        }

        int need = size + (setId == _setId && _setStart >= 0 ? 0 : SetHeaderBytes);
        if ((uint)(_position + need) > (uint)_buffer.Length)
        {
            return false;
        }

        if (setId != _setId || _setStart < 0)
        {
            CloseSet();
            _setStart = _position;
            _setId = setId;
            _position += SetHeaderBytes;
        }

        Span<byte> b = _buffer.AsSpan(_position, size);
        int p = 0;
        Span<byte> address = stackalloc byte[16];
        int addressBytes = v6 ? 16 : 4;
        (reverse ? r.DestinationAddress : r.SourceAddress).WriteBytes(address);
        address[..addressBytes].CopyTo(b[p..]);
        p += addressBytes;
        (reverse ? r.SourceAddress : r.DestinationAddress).WriteBytes(address);
        address[..addressBytes].CopyTo(b[p..]);
        p += addressBytes;
        BinaryPrimitives.WriteUInt16BigEndian(b[p..], reverse ? r.DestinationPort : r.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(b[(p + 2)..], reverse ? r.SourcePort : r.DestinationPort);
        b[p + 4] = r.Protocol;
        b[p + 5] = r.IpVersion;
        p += 6;
        BinaryPrimitives.WriteUInt64BigEndian(b[p..], (ulong)(r.FirstNs / 1_000_000));
        BinaryPrimitives.WriteUInt64BigEndian(b[(p + 8)..], (ulong)(r.LastNs / 1_000_000));
        BinaryPrimitives.WriteUInt64BigEndian(b[(p + 16)..], reverse ? r.ReverseBytes : r.ForwardBytes);
        BinaryPrimitives.WriteUInt64BigEndian(b[(p + 24)..], reverse ? r.ReversePackets : r.ForwardPackets);
        p += 32;
        if (_biflow)
        {
            BinaryPrimitives.WriteUInt64BigEndian(b[p..], r.ReverseBytes);
            BinaryPrimitives.WriteUInt64BigEndian(b[(p + 8)..], r.ReversePackets);
            BinaryPrimitives.WriteUInt16BigEndian(b[(p + 16)..], (ushort)r.ReverseTcpFlags);
            p += 18;
        }

        BinaryPrimitives.WriteUInt16BigEndian(b[p..], (ushort)(reverse ? r.ReverseTcpFlags : r.ForwardTcpFlags));
        b[p + 2] = EndReason(r.EndReason);
        BinaryPrimitives.WriteUInt16BigEndian(b[(p + 3)..], r.VlanId);
        BinaryPrimitives.WriteUInt64BigEndian(b[(p + 5)..], SegmentId(r.VnKind, r.VnId));
        b[p + 13] = (byte)r.VnKind;
        BinaryPrimitives.WriteUInt32BigEndian(b[(p + 14)..], r.VnId);
        p += 18;
        if (_metadata)
        {
            b[p] = (byte)metadata.App;
            p = WriteString(b, p + 1, dns);
            BinaryPrimitives.WriteUInt16BigEndian(b[p..], (ushort)metadata.DnsQueryType);
            b[p + 2] = (byte)metadata.DnsResponseCode; // -1 (no response) becomes 255
            p = WriteString(b, p + 3, host);
            BinaryPrimitives.WriteUInt16BigEndian(b[p..], (ushort)metadata.HttpStatus);
            p = WriteString(b, p + 2, sni);
            BinaryPrimitives.WriteUInt16BigEndian(b[p..], (ushort)(metadata.TlsVersion != 0 ? metadata.TlsVersion : metadata.TlsClientVersion));
            p = WriteString(b, p + 2, ja3);
            p = WriteString(b, p, ja4);
        }

        Debug.Assert(p == size, "the record's size matches its fields");
        _position += size;
        RecordCount++;
        return true;
    }

    /// <summary>Finishes the message: closes its set, writes its header, and returns it; the next record starts a new one.</summary>
    public ReadOnlySpan<byte> Finish(uint exportTime, uint sequence)
    {
        CloseSet();
        int length = _position;
        WriteHeader(_buffer, length, exportTime, sequence, _domain);
        _position = HeaderBytes;
        _setId = 0;
        RecordCount = 0;
        return _buffer.AsSpan(0, length);
    }

    /// <summary>Writes a message holding only the template set into <paramref name="destination"/>.</summary>
    public int WriteTemplateMessage(Span<byte> destination, uint exportTime, uint sequence)
    {
        int length = HeaderBytes + _templates.Length;
        _templates.CopyTo(destination[HeaderBytes..]);
        WriteHeader(destination, length, exportTime, sequence, _domain);
        return length;
    }

    private void CloseSet()
    {
        if (_setStart >= 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_setStart), _setId);
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_setStart + 2), (ushort)(_position - _setStart));
            _setStart = -1;
        }
    }

    private static void WriteHeader(Span<byte> b, int length, uint exportTime, uint sequence, uint domain)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, 10);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], (ushort)length);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], exportTime);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(b[12..], domain);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Truncate(ReadOnlySpan<byte> s) => s.Length <= _maxString ? s : s[.._maxString];

    // RFC 7011 §7: one length byte below 255, else 255 and a 16-bit length.
    private static int StringBytes(int length) => length < 255 ? 1 + length : 3 + length;

    private static int WriteString(Span<byte> b, int p, ReadOnlySpan<byte> s)
    {
        if (s.Length < 255)
        {
            b[p++] = (byte)s.Length;
        }
        else
        {
            b[p] = 255;
            BinaryPrimitives.WriteUInt16BigEndian(b[(p + 1)..], (ushort)s.Length);
            p += 3;
        }

        s.CopyTo(b[p..]);
        return p + s.Length;
    }

    private static int FixedRecordBytes(int ipVersion, bool biflow, bool metadata) =>
        (ipVersion == 6 ? 32 : 8) + 6 + 32 + (biflow ? 18 : 0) + 18 + (metadata ? 8 : 0);

    // IANA flowEndReason: 1 idle timeout, 2 active timeout, 3 end of flow detected, 4 forced end, 5 lack of resources.
    private static byte EndReason(FlowEndReason reason) => reason switch
    {
        FlowEndReason.IdleTimeout => 1,
        FlowEndReason.ActiveTimeout => 2,
        FlowEndReason.TcpEnd or FlowEndReason.Reused => 3,
        FlowEndReason.EndOfInput => 4,
        FlowEndReason.Evicted => 5,
        _ => 0,
    };

    // IANA layer2SegmentId: the top octet names the overlay (0x01 VXLAN, 0x02 NVGRE), the low 24 bits its segment id.
    // Geneve has no code point: its VNI travels in the enterprise elements only.
    private static ulong SegmentId(VirtualNetworkKind kind, uint id) => kind switch
    {
        VirtualNetworkKind.Vxlan => (0x01UL << 56) | (id & 0xFF_FFFF),
        _ => 0,
    };

    private static byte[] BuildTemplateSet(uint pen, bool biflow, bool metadata)
    {
        var set = new List<byte>();
        void U16(int v)
        {
            set.Add((byte)(v >> 8));
            set.Add((byte)v);
        }

        void Field(int id, int length, uint enterprise = 0)
        {
            U16(enterprise == 0 ? id : id | 0x8000);
            U16(length);
            if (enterprise != 0)
            {
                U16((int)(enterprise >> 16));
                U16((int)(enterprise & 0xFFFF));
            }
        }

        U16(TemplateSetId);
        U16(0);
        foreach (int version in (ReadOnlySpan<int>)[4, 6])
        {
            int countAt = set.Count + 2;
            U16(version == 4 ? TemplateIdV4 : TemplateIdV6);
            U16(0);
            int start = set.Count;
            int fields = 0;
            void F(int id, int length, uint enterprise = 0)
            {
                Field(id, length, enterprise);
                fields++;
            }

            F(version == 4 ? 8 : 27, version == 4 ? 4 : 16); // sourceIPv4Address / sourceIPv6Address
            F(version == 4 ? 12 : 28, version == 4 ? 4 : 16); // destinationIPv4Address / destinationIPv6Address
            F(7, 2); // sourceTransportPort
            F(11, 2); // destinationTransportPort
            F(4, 1); // protocolIdentifier
            F(60, 1); // ipVersion
            F(152, 8); // flowStartMilliseconds
            F(153, 8); // flowEndMilliseconds
            F(1, 8); // octetDeltaCount
            F(2, 8); // packetDeltaCount
            if (biflow)
            {
                F(1, 8, ReversePen); // reverseOctetDeltaCount (RFC 5103)
                F(2, 8, ReversePen); // reversePacketDeltaCount
                F(6, 2, ReversePen); // reverseTcpControlBits
            }

            F(6, 2); // tcpControlBits
            F(136, 1); // flowEndReason
            F(58, 2); // vlanId
            F(351, 8); // layer2SegmentId
            F((int)IpfixEnterpriseElement.VirtualNetworkKind, 1, pen);
            F((int)IpfixEnterpriseElement.VirtualNetworkId, 4, pen);
            if (metadata)
            {
                F((int)IpfixEnterpriseElement.ApplicationProtocol, 1, pen);
                F((int)IpfixEnterpriseElement.DnsQueryName, 0xFFFF, pen);
                F((int)IpfixEnterpriseElement.DnsQueryType, 2, pen);
                F((int)IpfixEnterpriseElement.DnsResponseCode, 1, pen);
                F((int)IpfixEnterpriseElement.HttpHost, 0xFFFF, pen);
                F((int)IpfixEnterpriseElement.HttpStatus, 2, pen);
                F((int)IpfixEnterpriseElement.TlsServerName, 0xFFFF, pen);
                F((int)IpfixEnterpriseElement.TlsVersion, 2, pen);
                F((int)IpfixEnterpriseElement.Ja3, 0xFFFF, pen);
                F((int)IpfixEnterpriseElement.Ja4, 0xFFFF, pen);
            }

            Debug.Assert(start <= set.Count, "fields written");
            set[countAt] = (byte)(fields >> 8);
            set[countAt + 1] = (byte)fields;
        }

        byte[] result = [.. set];
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(2), (ushort)result.Length);
        return result;
    }
}
