// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace FlowEngine.AppLayer;

/// <summary>
/// Reads a ClientHello (RFC 8446 §4.1.2; RFC 6066 §3 server_name; RFC 7301 ALPN) and computes its JA3 and JA4
/// fingerprints. Never throws; lengths that lie end the parse where the bytes end.
/// </summary>
/// <remarks>
/// <code>
/// struct {
///     ProtocolVersion legacy_version;              // 2
///     Random random;                               // 32
///     opaque legacy_session_id&lt;0..32&gt;;           // 1 + n
///     CipherSuite cipher_suites&lt;2..2^16-2&gt;;      // 2 + n
///     opaque legacy_compression_methods&lt;1..2^8-1&gt;; // 1 + n
///     Extension extensions&lt;8..2^16-1&gt;;          // 2 + n: { ExtensionType type (2); opaque data&lt;0..2^16-1&gt; (2 + n) }
/// } ClientHello;
/// </code>
/// JA3 (Salesforce): <c>SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats</c> in decimal, values
/// joined by '-', GREASE values (RFC 8701) left out, MD5 in lower-case hex. JA4 (FoxIO, JA4 TLS client): <c>t</c>, the
/// version, <c>d</c> or <c>i</c> (SNI or not), cipher and extension counts, the first ALPN's first and last characters,
/// then the first 12 hex digits of SHA-256 over the sorted ciphers and over the sorted extensions (without SNI and ALPN)
/// followed by the signature algorithms in their order.
/// </remarks>
public static class TlsClientHello
{
    /// <summary>Bytes of a JA3 or JA3S fingerprint (MD5 in hex).</summary>
    public const int Ja3Length = 32;

    /// <summary>Bytes of a JA4 fingerprint.</summary>
    public const int Ja4Length = 36;

    private const int RandomLength = 32;
    private const int MaxValues = 1024;
    private const ushort ServerNameExtension = 0, SupportedGroupsExtension = 10, PointFormatsExtension = 11;
    private const ushort SignatureAlgorithmsExtension = 13, AlpnExtension = 16, SupportedVersionsExtension = 43;

    /// <summary>Reads the fields of a ClientHello body (the handshake message without its 4-byte header).</summary>
    /// <param name="body">The body; may be cut short.</param>
    /// <param name="info">What was read.</param>
    /// <returns>False when not even the version, random and session id are present.</returns>
    public static bool TryParse(ReadOnlySpan<byte> body, out TlsClientHelloInfo info)
    {
        info = default;
        var r = new Walker(body);
        if (!r.Fixed(out info.LegacyVersion))
        {
            return false;
        }

        info.HighestVersion = info.LegacyVersion;
        if (!r.Ciphers(out ReadOnlySpan<byte> ciphers))
        {
            info.CipherSuiteCount = ciphers.Length / 2;
            return true;
        }

        info.CipherSuiteCount = ciphers.Length / 2;
        if (!r.Compression())
        {
            return true;
        }

        int extensionsEnd = r.ExtensionsEnd(out bool whole);
        ushort highest = 0;
        while (r.NextExtension(extensionsEnd, out ushort type, out ReadOnlySpan<byte> data, out int dataStart, out bool dataWhole))
        {
            info.ExtensionCount++;
            switch (type)
            {
                case ServerNameExtension:
                    info.ServerName = ServerName(data, dataStart);
                    break;
                case AlpnExtension:
                    info.FirstAlpn = FirstAlpn(data, dataStart);
                    break;
                case SupportedVersionsExtension when data.Length >= 1:
                    ReadOnlySpan<byte> versions = data[1..Math.Min(data.Length, 1 + data[0])];
                    for (int i = 0; i + 1 < versions.Length; i += 2)
                    {
                        ushort v = BinaryPrimitives.ReadUInt16BigEndian(versions[i..]);
                        if (!IsGrease(v) && v > highest)
                        {
                            highest = v;
                        }
                    }

                    break;
                default:
                    break;
            }

            if (!dataWhole)
            {
                whole = false;
                break;
            }
        }

        if (highest != 0)
        {
            info.HighestVersion = highest;
        }

        info.IsComplete = whole && r.Position == extensionsEnd;
        return true;
    }

    /// <summary>Computes JA3 (and its string) and JA4 of a complete ClientHello body.</summary>
    /// <param name="body">The body (handshake message without its header).</param>
    /// <param name="ja3">Receives the JA3 hash: <see cref="Ja3Length"/> lower-case hex bytes.</param>
    /// <param name="ja4">Receives JA4: <see cref="Ja4Length"/> ASCII bytes.</param>
    /// <param name="ja3String">Receives the JA3 string when long enough (may be empty).</param>
    /// <param name="ja3StringLength">Bytes of the JA3 string (written only when it fits).</param>
    /// <returns>False when the hello is not complete or a destination is too small.</returns>
    public static bool TryFingerprint(ReadOnlySpan<byte> body, Span<byte> ja3, Span<byte> ja4, Span<byte> ja3String, out int ja3StringLength)
    {
        ja3StringLength = 0;
        if (ja3.Length < Ja3Length || ja4.Length < Ja4Length || !TryParse(body, out TlsClientHelloInfo info) || !info.IsComplete)
        {
            return false;
        }

        ushort[] rented = ArrayPool<ushort>.Shared.Rent(5 * MaxValues);
        byte[] text = ArrayPool<byte>.Shared.Rent(5 * MaxValues * 6);
        try
        {
            Span<ushort> ciphers = rented.AsSpan(0, MaxValues), extensions = rented.AsSpan(MaxValues, MaxValues);
            Span<ushort> groups = rented.AsSpan(2 * MaxValues, MaxValues), formats = rented.AsSpan(3 * MaxValues, MaxValues);
            Span<ushort> signatures = rented.AsSpan(4 * MaxValues, MaxValues);
            int nc = 0, ne = 0, ng = 0, nf = 0, ns = 0;
            bool sni = false;
            var r = new Walker(body);
            r.Fixed(out ushort version);
            r.Ciphers(out ReadOnlySpan<byte> cipherBytes);
            for (int i = 0; i + 1 < cipherBytes.Length; i += 2)
            {
                Add(ciphers, ref nc, BinaryPrimitives.ReadUInt16BigEndian(cipherBytes[i..]));
            }

            r.Compression();
            int end = r.ExtensionsEnd(out _);
            while (r.NextExtension(end, out ushort type, out ReadOnlySpan<byte> data, out _, out _))
            {
                Add(extensions, ref ne, type);
                sni |= type == ServerNameExtension;
                if (type == SupportedGroupsExtension && data.Length >= 2)
                {
                    ReadOnlySpan<byte> list = data[2..Math.Min(data.Length, 2 + BinaryPrimitives.ReadUInt16BigEndian(data))];
                    for (int i = 0; i + 1 < list.Length; i += 2)
                    {
                        Add(groups, ref ng, BinaryPrimitives.ReadUInt16BigEndian(list[i..]));
                    }
                }
                else if (type == PointFormatsExtension && data.Length >= 1)
                {
                    foreach (byte f in data[1..Math.Min(data.Length, 1 + data[0])])
                    {
                        Add(formats, ref nf, f);
                    }
                }
                else if (type == SignatureAlgorithmsExtension && data.Length >= 2)
                {
                    ReadOnlySpan<byte> list = data[2..Math.Min(data.Length, 2 + BinaryPrimitives.ReadUInt16BigEndian(data))];
                    for (int i = 0; i + 1 < list.Length; i += 2)
                    {
                        Add(signatures, ref ns, BinaryPrimitives.ReadUInt16BigEndian(list[i..]));
                    }
                }
            }

            // JA3: the string, then its MD5.
            int n = 0;
            Span<byte> t = text;
            Decimal(t, ref n, version);
            t[n++] = (byte)',';
            DecimalList(t, ref n, ciphers[..nc]);
            t[n++] = (byte)',';
            DecimalList(t, ref n, extensions[..ne]);
            t[n++] = (byte)',';
            DecimalList(t, ref n, groups[..ng]);
            t[n++] = (byte)',';
            DecimalList(t, ref n, formats[..nf]);
            Span<byte> md5 = stackalloc byte[16];
#pragma warning disable CA5351 // JA3 and JA3S are defined as MD5 digests: a fingerprint to match lists against, not a security use.
            MD5.HashData(t[..n], md5);
#pragma warning restore CA5351
            Hex(md5, ja3);
            if (ja3String.Length >= n)
            {
                t[..n].CopyTo(ja3String);
                ja3StringLength = n;
            }

            // JA4_a: protocol, version, SNI, counts, ALPN.
            ja4[0] = (byte)'t';
            VersionCode(info.HighestVersion, ja4[1..]);
            ja4[3] = sni ? (byte)'d' : (byte)'i';
            TwoDigits(Math.Min(nc, 99), ja4[4..]);
            TwoDigits(Math.Min(ne, 99), ja4[6..]);
            AlpnCode(info.FirstAlpn.Of(body), ja4[8..]);
            ja4[10] = (byte)'_';

            // JA4_b: the sorted ciphers; JA4_c: the sorted extensions without SNI and ALPN, then the signature algorithms.
            ciphers[..nc].Sort();
            n = 0;
            HexList(t, ref n, ciphers[..nc]);
            Truncated(t[..n], nc == 0, ja4[11..]);
            ja4[23] = (byte)'_';
            int kept = 0;
            for (int i = 0; i < ne; i++)
            {
                if (extensions[i] is not (ServerNameExtension or AlpnExtension))
                {
                    extensions[kept++] = extensions[i];
                }
            }

            extensions[..kept].Sort();
            n = 0;
            HexList(t, ref n, extensions[..kept]);
            if (ns > 0)
            {
                t[n++] = (byte)'_';
                HexList(t, ref n, signatures[..ns]);
            }

            Truncated(t[..n], kept == 0, ja4[24..]);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(text);
            ArrayPool<ushort>.Shared.Return(rented);
        }
    }

    /// <summary>True for a GREASE value (RFC 8701: 0x0A0A, 0x1A1A, ..., 0xFAFA).</summary>
    /// <param name="value">A cipher suite, extension, group or version.</param>
    /// <returns>True when it is GREASE.</returns>
    public static bool IsGrease(ushort value) => (value & 0x0F0F) == 0x0A0A && (value >> 8) == (value & 0xFF);

    internal static void Hex(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = HexDigit(bytes[i] >> 4);
            destination[(2 * i) + 1] = HexDigit(bytes[i] & 0xF);
        }
    }

    internal static void Decimal(Span<byte> t, ref int n, int value)
    {
        Utf8Formatter.TryFormat(value, t[n..], out int w);
        n += w;
    }

    internal static void DecimalList(Span<byte> t, ref int n, ReadOnlySpan<ushort> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                t[n++] = (byte)'-';
            }

            Decimal(t, ref n, values[i]);
        }
    }

    private static byte HexDigit(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static void Add(Span<ushort> list, ref int count, ushort value)
    {
        if (!IsGrease(value) && count < list.Length)
        {
            list[count++] = value;
        }
    }

    private static void HexList(Span<byte> t, ref int n, ReadOnlySpan<ushort> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                t[n++] = (byte)',';
            }

            t[n++] = HexDigit(values[i] >> 12);
            t[n++] = HexDigit((values[i] >> 8) & 0xF);
            t[n++] = HexDigit((values[i] >> 4) & 0xF);
            t[n++] = HexDigit(values[i] & 0xF);
        }
    }

    // The first 12 hex digits of SHA-256 over text; twelve zeros for an empty list.
    private static void Truncated(ReadOnlySpan<byte> text, bool empty, Span<byte> destination)
    {
        if (empty)
        {
            destination[..12].Fill((byte)'0');
            return;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(text, hash);
        Hex(hash[..6], destination);
    }

    private static void TwoDigits(int value, Span<byte> destination)
    {
        destination[0] = (byte)('0' + (value / 10));
        destination[1] = (byte)('0' + (value % 10));
    }

    private static void VersionCode(ushort version, Span<byte> destination)
    {
        ReadOnlySpan<byte> code = version switch
        {
            0x0304 => "13"u8,
            0x0303 => "12"u8,
            0x0302 => "11"u8,
            0x0301 => "10"u8,
            0x0300 => "s3"u8,
            0x0002 => "s2"u8,
            0xFEFF => "d1"u8,
            0xFEFD => "d2"u8,
            0xFEFC => "d3"u8,
            _ => "00"u8,
        };
        code.CopyTo(destination);
    }

    // The first and last characters of the first ALPN value; "00" without ALPN; the first and last hex digits of the
    // value when either end is not an ASCII letter or digit.
    private static void AlpnCode(ReadOnlySpan<byte> alpn, Span<byte> destination)
    {
        if (alpn.IsEmpty)
        {
            destination[0] = destination[1] = (byte)'0';
            return;
        }

        byte first = alpn[0], last = alpn[^1];
        if (char.IsAsciiLetterOrDigit((char)first) && char.IsAsciiLetterOrDigit((char)last))
        {
            destination[0] = first;
            destination[1] = last;
        }
        else
        {
            destination[0] = HexDigit(first >> 4);
            destination[1] = HexDigit(last & 0xF);
        }
    }

    private static TextRange ServerName(ReadOnlySpan<byte> data, int dataStart)
    {
        // server_name_list<1..2^16-1> of { NameType name_type (0 host_name); opaque HostName<1..2^16-1> }.
        if (data.Length < 5 || data[2] != 0)
        {
            return default;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        return new TextRange(dataStart + 5, Math.Min(length, data.Length - 5));
    }

    private static TextRange FirstAlpn(ReadOnlySpan<byte> data, int dataStart)
    {
        // ProtocolNameList<2..2^16-1> of opaque ProtocolName<1..2^8-1>.
        if (data.Length < 3)
        {
            return default;
        }

        int length = data[2];
        return new TextRange(dataStart + 3, Math.Min(length, data.Length - 3));
    }

    /// <summary>Walks a hello's fields in order, never past the input.</summary>
    internal ref struct Walker(ReadOnlySpan<byte> body)
    {
        private readonly ReadOnlySpan<byte> _body = body;

        public int Position { get; private set; }

        // legacy_version, random and the session id.
        public bool Fixed(out ushort version)
        {
            version = 0;
            if (_body.Length < 2 + RandomLength + 1)
            {
                return false;
            }

            version = BinaryPrimitives.ReadUInt16BigEndian(_body);
            int session = _body[2 + RandomLength];
            Position = 2 + RandomLength + 1 + session;
            return Position <= _body.Length;
        }

        // The cipher suites; false (with what is present) when they are cut.
        public bool Ciphers(out ReadOnlySpan<byte> ciphers)
        {
            ciphers = default;
            if (Position + 2 > _body.Length)
            {
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(_body[Position..]);
            int start = Position + 2;
            ciphers = _body.Slice(start, Math.Min(length, _body.Length - start) & ~1);
            Position = start + length;
            return Position <= _body.Length;
        }

        // A TLS 1.3 draft ServerHello (version 0x7Fnn, drafts before 22) has no session id echo and no compression method.
        public bool FixedWithoutSession(out ushort version)
        {
            version = 0;
            if (_body.Length < 2 + RandomLength)
            {
                return false;
            }

            version = BinaryPrimitives.ReadUInt16BigEndian(_body);
            Position = 2 + RandomLength;
            return true;
        }

        // A ServerHello's single cipher suite.
        public bool Cipher(out ushort cipher)
        {
            cipher = 0;
            if (Position + 2 > _body.Length)
            {
                return false;
            }

            cipher = BinaryPrimitives.ReadUInt16BigEndian(_body[Position..]);
            Position += 2;
            return true;
        }

        public bool Compression()
        {
            if (Position + 1 > _body.Length)
            {
                return false;
            }

            Position += 1 + _body[Position];
            return Position <= _body.Length;
        }

        // A ServerHello's single compression method.
        public bool CompressionMethod()
        {
            Position++;
            return Position <= _body.Length;
        }

        // The end of the extensions block (declared, limited to the input); whole is false when the input ends first.
        public int ExtensionsEnd(out bool whole)
        {
            if (Position + 2 > _body.Length)
            {
                whole = Position == _body.Length ? true : false;
                return Position;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(_body[Position..]);
            Position += 2;
            int end = Position + length;
            whole = end <= _body.Length;
            return Math.Min(end, _body.Length);
        }

        public bool NextExtension(int end, out ushort type, out ReadOnlySpan<byte> data, out int dataStart, out bool dataWhole)
        {
            type = 0;
            data = default;
            dataStart = 0;
            dataWhole = false;
            if (Position + 4 > end)
            {
                return false;
            }

            type = BinaryPrimitives.ReadUInt16BigEndian(_body[Position..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(_body[(Position + 2)..]);
            dataStart = Position + 4;
            dataWhole = dataStart + length <= end;
            data = _body.Slice(dataStart, Math.Min(length, end - dataStart));
            Position = dataWhole ? dataStart + length : end;
            return true;
        }
    }
}
