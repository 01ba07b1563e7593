// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Packets;

namespace FlowEngine.AppLayer;

/// <summary>Recognising a flow's application from its payloads, and reading each protocol's metadata.</summary>
public sealed partial class AppMetadataTable
{
    // Parts of a flow's metadata seen so far (FlowState.Done).
    private const ushort ClientHelloDone = 1, ServerHelloDone = 2, RequestDone = 4, ResponseDone = 8, ClientBannerDone = 16, ServerBannerDone = 32;

    // The first payload of a direction was looked at: a flow whose first payload each way was no known protocol is
    // left alone after that (bulk transfers, encrypted tunnels), so it does not cost a recognition per packet.
    private const ushort OriginatorTried = 64, ResponderTried = 128;

    private const byte Tcp = IpProtocol.Tcp, Udp = IpProtocol.Udp;

    private static bool IsComplete(ref FlowState f) => (AppProtocol)f.App switch
    {
        AppProtocol.Tls => (f.Done & (ClientHelloDone | ServerHelloDone)) == (ClientHelloDone | ServerHelloDone),
        AppProtocol.Http => (f.Done & (RequestDone | ResponseDone)) == (RequestDone | ResponseDone),
        AppProtocol.Ssh => (f.Done & (ClientBannerDone | ServerBannerDone)) == (ClientBannerDone | ServerBannerDone),

        // DNS flows are followed to the budget: their query count and distinct names are the point.
        _ => false,
    };

    [SkipLocalsInit] // the name buffer is written before it is read
    private void Parse(ref FlowState f, in DecodedPacket packet, ReadOnlySpan<byte> payload, bool fromOriginator)
    {
        if (f.App == (byte)AppProtocol.Unknown)
        {
            ushort tried = fromOriginator ? OriginatorTried : ResponderTried;
            if ((f.Done & tried) != 0)
            {
                return;
            }

            f.Done |= tried;
            if (packet.Protocol == Udp)
            {
                // A UDP datagram is DNS when it parses as a plausible message: that parse is also its metadata's.
                Span<byte> name = stackalloc byte[AppMetadataLimits.DnsQueryBytes + 1];
                if (DnsParser.TryParse(payload, name, out DnsMessageInfo info) && LooksLikeDns(in info))
                {
                    Label(ref f, AppProtocol.Dns);
                    UseDns(ref f, in info, name);
                }

                return;
            }

            AppProtocol app = Recognise(packet.Protocol, payload, fromOriginator);
            if (app == AppProtocol.Unknown)
            {
                return;
            }

            Label(ref f, app);
        }

        switch ((AppProtocol)f.App)
        {
            case AppProtocol.Dns:
                ParseDns(ref f, packet.Protocol, payload);
                break;
            case AppProtocol.Http:
                ParseHttp(ref f, payload, fromOriginator);
                break;
            case AppProtocol.Tls:
                ParseTls(ref f, in packet, payload, fromOriginator);
                break;
            case AppProtocol.Ssh:
                ParseSsh(ref f, payload, fromOriginator);
                break;
            default:
                break;
        }
    }

    private void Label(ref FlowState f, AppProtocol app)
    {
        f.App = (byte)app;
        _statistics.FlowsLabelled++;
        TakeBlock(ref f);
    }

    // By content: the first payload of either direction, whatever the ports.
    private static AppProtocol Recognise(byte protocol, ReadOnlySpan<byte> payload, bool fromOriginator)
    {
        if (protocol != Tcp)
        {
            return AppProtocol.Unknown;
        }

        if (TlsRecordReader.LooksLikeTls(payload))
        {
            return AppProtocol.Tls;
        }

        if (SshBanner.LooksLikeSsh(payload))
        {
            return AppProtocol.Ssh;
        }

        if (fromOriginator ? HttpParser.LooksLikeRequest(payload) : HttpParser.LooksLikeResponse(payload))
        {
            return AppProtocol.Http;
        }

        return DnsParser.TryParseTcp(payload, default, out DnsMessageInfo tcpInfo, out _) && LooksLikeDns(in tcpInfo) ? AppProtocol.Dns : AppProtocol.Unknown;
    }

    // A header and a question that parse are not enough on their own for arbitrary UDP payloads: a plausible DNS
    // message has one question (of the standard query opcode) and counts that fit what a message of its size holds.
    private static bool LooksLikeDns(in DnsMessageInfo info)
        => (info.QuestionCount is >= 1 and <= 4 || (info.QuestionCount == 0 && info.IsResponse && info.AnswersParsed > 0))
        && info.Opcode is 0 or 4 or 5
        && info.AnswerCount < 256 && info.AuthorityCount < 256 && info.AdditionalCount < 256;

    [SkipLocalsInit] // the name buffer is written before it is read
    private void ParseDns(ref FlowState f, byte protocol, ReadOnlySpan<byte> payload)
    {
        Span<byte> name = stackalloc byte[AppMetadataLimits.DnsQueryBytes + 1];
        DnsMessageInfo info;
        bool ok = protocol == Udp ? DnsParser.TryParse(payload, name, out info) : DnsParser.TryParseTcp(payload, name, out info, out _);
        if (!ok)
        {
            _statistics.Malformed++;
            return;
        }

        UseDns(ref f, in info, name);
    }

    private void UseDns(ref FlowState f, in DnsMessageInfo info, ReadOnlySpan<byte> name)
    {
        if (f.Block == 0)
        {
            return;
        }

        ref AppMetadataBlock b = ref BlockOf(ref f);
        ReadOnlySpan<byte> query = name[..Math.Min(info.QueryNameLength, name.Length)];
        if (!info.IsResponse)
        {
            b.DnsQueries++;
            CountName(ref b, query);
        }
        else
        {
            b.DnsResponses++;
            if (b.DnsResponseCode == byte.MaxValue)
            {
                b.DnsResponseCode = (byte)info.ResponseCode;
                b.DnsAnswers = info.AnswerCount;
                for (int i = 0; i < info.AnswerAddressCount && b.DnsAddressCount < AppMetadataLimits.DnsAddresses; i++)
                {
                    b.DnsAddresses[b.DnsAddressCount] = info.AnswerAddresses[i];
                    b.DnsAddressVersions[b.DnsAddressCount] = info.AnswerAddressVersions[i];
                    b.DnsAddressCount++;
                }
            }

            if (b.DnsQueries == 0)
            {
                // Only the response was seen: its question still names the query.
                CountName(ref b, query);
            }
        }

        if (!b.Has(AppField.DnsQuery))
        {
            b.DnsQueryType = info.QueryType;
            b.Set(AppField.DnsQuery, query, AppMetadataLimits.DnsQueryBytes);
        }
    }

    private static void CountName(ref AppMetadataBlock b, ReadOnlySpan<byte> name)
    {
        uint h = NameHash(name);
        int known = Math.Min((int)b.DnsDistinctNames, AppMetadataLimits.DnsDistinctNames);
        for (int i = 0; i < known; i++)
        {
            if (b.DnsNames[i] == h)
            {
                return;
            }
        }

        if (known < AppMetadataLimits.DnsDistinctNames)
        {
            b.DnsNames[known] = h;
            b.DnsDistinctNames++;
        }
    }

    // A hash of a DNS name for counting distinct names, eight bytes at a time (a byte at a time cost more than the
    // rest of a DNS packet's metadata). Names compare without case: every byte gets bit 0x20, which folds ASCII
    // letters and leaves digits, '-' and '.' as they are; two names that differ only in a byte that bit merges
    // otherwise ('_' and DEL, say) count as one, which a count of distinct names can afford.
    internal static uint NameHash(ReadOnlySpan<byte> name)
    {
        const ulong Fold = 0x2020202020202020, Multiplier = 0x9E3779B97F4A7C15;
        ulong h = (ulong)name.Length * Multiplier;
        int i = 0;
        for (; i + 8 <= name.Length; i += 8)
        {
            h = (h ^ (System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(name[i..]) | Fold)) * Multiplier;
            h ^= h >> 29;
        }

        if (i < name.Length)
        {
            ulong tail = 0;
            for (int j = name.Length - 1; j >= i; j--)
            {
                tail = (tail << 8) | (byte)(name[j] | 0x20);
            }

            h = (h ^ tail) * Multiplier;
            h ^= h >> 29;
        }

        return (uint)(h >> 32);
    }

    private void ParseHttp(ref FlowState f, ReadOnlySpan<byte> payload, bool fromOriginator)
    {
        if (fromOriginator)
        {
            if ((f.Done & RequestDone) != 0)
            {
                return;
            }

            if (!HttpParser.TryParseRequest(payload, out HttpRequestInfo request))
            {
                _statistics.Malformed++;
                return;
            }

            f.Done |= RequestDone;
            if (f.Block != 0)
            {
                ref AppMetadataBlock b = ref BlockOf(ref f);
                b.Set(AppField.HttpMethod, request.Method.Of(payload), 16);
                b.Set(AppField.HttpHost, request.Host.Of(payload), AppMetadataLimits.HeaderBytes);
                b.Set(AppField.HttpUri, request.Uri.Of(payload), AppMetadataLimits.UriBytes);
                b.Set(AppField.HttpUserAgent, request.UserAgent.Of(payload), AppMetadataLimits.HeaderBytes);
            }
        }
        else
        {
            if ((f.Done & ResponseDone) != 0)
            {
                return;
            }

            if (!HttpParser.TryParseResponse(payload, out HttpResponseInfo response))
            {
                _statistics.Malformed++;
                return;
            }

            f.Done |= ResponseDone;
            if (f.Block != 0)
            {
                ref AppMetadataBlock b = ref BlockOf(ref f);
                b.HttpStatus = (ushort)response.StatusCode;
                b.Set(AppField.HttpContentType, response.ContentType.Of(payload), AppMetadataLimits.HeaderBytes);
            }
        }
    }

    private void ParseSsh(ref FlowState f, ReadOnlySpan<byte> payload, bool fromOriginator)
    {
        ushort bit = fromOriginator ? ClientBannerDone : ServerBannerDone;
        if ((f.Done & bit) != 0)
        {
            return;
        }

        if (!SshBanner.TryParse(payload, out TextRange banner))
        {
            return;
        }

        f.Done |= bit;
        if (f.Block != 0)
        {
            BlockOf(ref f).Set(fromOriginator ? AppField.SshClient : AppField.SshServer, banner.Of(payload), AppMetadataLimits.HeaderBytes);
        }
    }

    private void ParseTls(ref FlowState f, in DecodedPacket packet, ReadOnlySpan<byte> payload, bool fromOriginator)
    {
        if (!fromOriginator)
        {
            ParseServerHello(ref f, payload);
            return;
        }

        if ((f.Done & ClientHelloDone) != 0)
        {
            return;
        }

        uint sequence = packet.TcpSequence;
        if (f.Reassembly == 0)
        {
            if (!TlsRecordReader.TryReadHandshake(payload, _handshake, out TlsHandshake first) || first.Type != 1)
            {
                // Not a ClientHello first (a resumed or odd stream): nothing more to read from this side.
                f.Done |= ClientHelloDone;
                return;
            }

            if (first.IsComplete || first.MissingBytes == 0)
            {
                UseClientHello(ref f, first);
                return;
            }

            if (_freeReassemblyCount == 0 || payload.Length > _options.ReassemblyBytes)
            {
                // No room to wait for the rest: what this segment holds (the SNI, often) is kept, no fingerprint.
                _statistics.ReassemblyExhausted++;
                UseClientHello(ref f, first);
                return;
            }

            int buffer = _freeReassembly[--_freeReassemblyCount];
            f.Reassembly = (ushort)(buffer + 1);
            payload.CopyTo(ReassemblyBuffer(buffer));
            _reassemblyLength[buffer] = payload.Length;
            f.NextSequence = sequence + (uint)payload.Length;
            return;
        }

        int index = f.Reassembly - 1;
        int delta = (int)(sequence - f.NextSequence);
        if (delta < 0)
        {
            // A retransmission of bytes already held.
            return;
        }

        Span<byte> held = ReassemblyBuffer(index);
        int length = _reassemblyLength[index];
        bool gap = delta > 0;
        int take = gap ? 0 : Math.Min(payload.Length, held.Length - length);
        payload[..take].CopyTo(held[length..]);
        length += take;
        _reassemblyLength[index] = length;
        f.NextSequence = sequence + (uint)payload.Length;
        TlsRecordReader.TryReadHandshake(held[..length], _handshake, out TlsHandshake hello);
        if (hello.IsComplete || hello.MissingBytes == 0 || gap || length == held.Length)
        {
            // Whole, or it never will be (a gap, or past the bound): use what there is.
            if (hello.IsComplete)
            {
                _statistics.HellosReassembled++;
            }

            UseClientHello(ref f, hello);
            ReleaseReassembly(ref f);
        }
    }

    [SkipLocalsInit] // the fingerprint buffers are written before they are read
    private void UseClientHello(ref FlowState f, in TlsHandshake hello)
    {
        f.Done |= ClientHelloDone;
        int written = Math.Min(hello.Written, _handshake.Length);
        if (f.Block == 0 || written < TlsRecordReader.HandshakeHeaderLength)
        {
            return;
        }

        ReadOnlySpan<byte> body = _handshake.AsSpan(TlsRecordReader.HandshakeHeaderLength, written - TlsRecordReader.HandshakeHeaderLength);
        if (!TlsClientHello.TryParse(body, out TlsClientHelloInfo info))
        {
            _statistics.Malformed++;
            return;
        }

        ref AppMetadataBlock b = ref BlockOf(ref f);
        b.TlsClientVersion = info.HighestVersion;
        b.Set(AppField.TlsSni, info.ServerName.Of(body), AppMetadataLimits.SniBytes);
        b.Set(AppField.TlsAlpn, info.FirstAlpn.Of(body), 32);
        Span<byte> ja3 = stackalloc byte[TlsClientHello.Ja3Length];
        Span<byte> ja4 = stackalloc byte[TlsClientHello.Ja4Length];
        if (hello.IsComplete && TlsClientHello.TryFingerprint(body, ja3, ja4, default, out _))
        {
            b.Set(AppField.Ja3, ja3, TlsClientHello.Ja3Length);
            b.Set(AppField.Ja4, ja4, TlsClientHello.Ja4Length);
        }
    }

    [SkipLocalsInit] // the fingerprint buffer is written before it is read
    private void ParseServerHello(ref FlowState f, ReadOnlySpan<byte> payload)
    {
        if ((f.Done & ServerHelloDone) != 0)
        {
            return;
        }

        f.Done |= ServerHelloDone;
        if (!TlsRecordReader.TryReadHandshake(payload, _handshake, out TlsHandshake hello) || hello.Type != 2 || f.Block == 0)
        {
            return;
        }

        ReadOnlySpan<byte> body = _handshake.AsSpan(TlsRecordReader.HandshakeHeaderLength, Math.Max(0, Math.Min(hello.Written, _handshake.Length) - TlsRecordReader.HandshakeHeaderLength));
        if (!TlsServerHello.TryParse(body, out TlsServerHelloInfo info))
        {
            _statistics.Malformed++;
            return;
        }

        ref AppMetadataBlock b = ref BlockOf(ref f);
        b.TlsVersion = info.Version;
        b.TlsCipher = info.CipherSuite;
        Span<byte> ja3s = stackalloc byte[TlsClientHello.Ja3Length];
        if (hello.IsComplete && TlsServerHello.TryFingerprint(body, ja3s))
        {
            b.Set(AppField.Ja3s, ja3s, TlsClientHello.Ja3Length);
        }
    }
}
