// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace FlowEngine.AppLayer;

/// <summary>
/// Reads a ServerHello (RFC 8446 §4.1.3) and computes its JA3S fingerprint (<c>SSLVersion,Cipher,SSLExtension</c> in
/// decimal, MD5 in lower-case hex). Never throws.
/// </summary>
/// <remarks>
/// <code>
/// struct {
///     ProtocolVersion legacy_version; Random random; opaque legacy_session_id_echo&lt;0..32&gt;;
///     CipherSuite cipher_suite; uint8 legacy_compression_method; Extension extensions&lt;6..2^16-1&gt;;
/// } ServerHello;
/// </code>
/// </remarks>
public static class TlsServerHello
{
    private const ushort SupportedVersionsExtension = 43;
    private const int MaxExtensions = 256;

    /// <summary>Reads a ServerHello body (the handshake message without its header).</summary>
    /// <param name="body">The body.</param>
    /// <param name="info">What was read.</param>
    /// <returns>False unless the version and cipher suite are present.</returns>
    public static bool TryParse(ReadOnlySpan<byte> body, out TlsServerHelloInfo info)
    {
        info = default;
        var r = new TlsClientHello.Walker(body);
        bool draft = IsDraft(body);
        if (!(draft ? r.FixedWithoutSession(out info.LegacyVersion) : r.Fixed(out info.LegacyVersion)) || !r.Cipher(out info.CipherSuite))
        {
            return false;
        }

        info.Version = info.LegacyVersion;
        if (!draft && !r.CompressionMethod())
        {
            return true;
        }

        int end = r.ExtensionsEnd(out bool whole);
        while (r.NextExtension(end, out ushort type, out ReadOnlySpan<byte> data, out _, out bool dataWhole))
        {
            info.ExtensionCount++;
            if (type == SupportedVersionsExtension && data.Length >= 2)
            {
                info.Version = BinaryPrimitives.ReadUInt16BigEndian(data);
            }

            whole &= dataWhole;
        }

        info.IsComplete = whole && r.Position == end;
        return true;
    }

    // TLS 1.3 drafts before 22 put their own version (0x7Fnn) in the ServerHello and dropped the session id and the
    // compression method from it.
    private static bool IsDraft(ReadOnlySpan<byte> body) => body.Length >= 2 && body[0] == 0x7F;

    /// <summary>Computes JA3S of a complete ServerHello body.</summary>
    /// <param name="body">The body.</param>
    /// <param name="ja3s">Receives <see cref="TlsClientHello.Ja3Length"/> lower-case hex bytes.</param>
    /// <returns>False when the hello is not complete.</returns>
    public static bool TryFingerprint(ReadOnlySpan<byte> body, Span<byte> ja3s)
    {
        if (ja3s.Length < TlsClientHello.Ja3Length || !TryParse(body, out TlsServerHelloInfo info) || !info.IsComplete)
        {
            return false;
        }

        ushort[] extensions = ArrayPool<ushort>.Shared.Rent(MaxExtensions);
        byte[] text = ArrayPool<byte>.Shared.Rent(16 + (MaxExtensions * 6));
        try
        {
            var r = new TlsClientHello.Walker(body);
            if (IsDraft(body))
            {
                r.FixedWithoutSession(out _);
                r.Cipher(out _);
            }
            else
            {
                r.Fixed(out _);
                r.Cipher(out _);
                r.CompressionMethod();
            }

            int end = r.ExtensionsEnd(out _);
            int ne = 0;
            while (ne < MaxExtensions && r.NextExtension(end, out ushort type, out _, out _, out _))
            {
                if (!TlsClientHello.IsGrease(type))
                {
                    extensions[ne++] = type;
                }
            }

            int n = 0;
            Span<byte> t = text;
            TlsClientHello.Decimal(t, ref n, info.LegacyVersion);
            t[n++] = (byte)',';
            TlsClientHello.Decimal(t, ref n, info.CipherSuite);
            t[n++] = (byte)',';
            TlsClientHello.DecimalList(t, ref n, extensions.AsSpan(0, ne));
            Span<byte> md5 = stackalloc byte[16];
#pragma warning disable CA5351 // JA3 and JA3S are defined as MD5 digests: a fingerprint to match lists against, not a security use.
            MD5.HashData(t[..n], md5);
#pragma warning restore CA5351
            TlsClientHello.Hex(md5, ja3s);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(text);
            ArrayPool<ushort>.Shared.Return(extensions);
        }
    }
}
