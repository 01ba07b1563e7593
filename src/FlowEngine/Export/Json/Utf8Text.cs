// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using FlowEngine.Packets;

namespace FlowEngine.Export.Json;

/// <summary>
/// UTF-8 text primitives for the JSON writers, allocation-free: JSON string escaping exactly as
/// <see cref="System.Text.Json.Utf8JsonWriter"/> with its default encoder does it (so the output stays byte-identical
/// to the writer it replaces), numbers, and IP addresses as <see cref="System.Net.IPAddress.ToString()"/> prints them.
/// Every method writes at <c>pos</c> and moves it; the caller sizes the span with the Max* bounds.
/// </summary>
internal static class Utf8Text
{
    /// <summary>Most bytes one UTF-16 char or one UTF-8 byte can become once escaped (<c>\uXXXX</c>).</summary>
    public const int EscapeExpansion = 6;

    /// <summary>Most bytes of an IP address's text (IPv6 with an embedded IPv4 address).</summary>
    public const int MaxIpBytes = 45;

    /// <summary>Most bytes of a number's text (a double's shortest round-trip form, or a long).</summary>
    public const int MaxNumberBytes = 32;

    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    private static ReadOnlySpan<byte> LowerHex => "0123456789abcdef"u8;

    // 1 where a byte passes unescaped: printable ASCII except " & ' + < > \ ` (System.Text.Json's default set).
    private static ReadOnlySpan<byte> Allowed =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    ];

    // The same set for a vectorized search of the first byte or char that needs escaping.
    private static readonly SearchValues<byte> s_allowedBytes = SearchValues.Create(AllowedSet());
    private static readonly SearchValues<char> s_allowedChars = SearchValues.Create(Encoding.ASCII.GetString(AllowedSet()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Raw(Span<byte> dst, ref int pos, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(dst[pos..]);
        pos += bytes.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Byte(Span<byte> dst, ref int pos, byte b) => dst[pos++] = b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UInt(Span<byte> dst, ref int pos, ulong value)
    {
        Utf8Formatter.TryFormat(value, dst[pos..], out int n);
        pos += n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Int(Span<byte> dst, ref int pos, long value)
    {
        Utf8Formatter.TryFormat(value, dst[pos..], out int n);
        pos += n;
    }

    /// <summary>A double as <see cref="System.Text.Json.Utf8JsonWriter.WriteNumberValue(double)"/> writes it (shortest round-trip).</summary>
    public static void Double(Span<byte> dst, ref int pos, double value)
    {
        if (!double.IsFinite(value))
        {
            // JSON has no NaN or infinity (Utf8JsonWriter throws on them): null keeps the line valid.
            Raw(dst, ref pos, "null"u8);
            return;
        }

        value.TryFormat(dst[pos..], out int n, default, CultureInfo.InvariantCulture);
        pos += n;
    }

    private static ReadOnlySpan<double> Powers => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

    /// <summary>
    /// <c>Math.Round(value, digits)</c> written as <see cref="Double"/> would write it, faster: the rounded value is the
    /// double nearest to n / 10^digits, so its shortest round-trip text is that decimal without trailing zeros, as
    /// long as it is neither zero (the sign of -0) nor in the range the shortest form writes with an exponent
    /// (below 1e-4 or from 1e15), nor so large that a double's spacing reaches 10^-digits (n from 1e15, where a
    /// shorter decimal can round-trip); those take the general path.
    /// </summary>
    public static void Rounded(Span<byte> dst, ref int pos, double value, int digits)
    {
        double v = Math.Round(value, digits);
        double a = Math.Abs(v);
        double scale = Powers[digits];
        if (!(a >= 1e-4 && a < 1e15) || a * scale >= 1e15)
        {
            Double(dst, ref pos, v);
            return;
        }

        long n = (long)Math.Round(a * scale);
        if (n / scale != a)
        {
            Double(dst, ref pos, v);
            return;
        }

        if (v < 0)
        {
            dst[pos++] = (byte)'-';
        }

        long p = (long)scale;
        long whole = Math.DivRem(n, p, out long fraction);
        UInt(dst, ref pos, (ulong)whole);
        if (fraction == 0)
        {
            return;
        }

        int width = digits;
        while (fraction % 10 == 0)
        {
            fraction /= 10;
            width--;
        }

        dst[pos++] = (byte)'.';
        for (int i = width - 1; i >= 0; i--)
        {
            dst[pos + i] = (byte)('0' + (fraction % 10));
            fraction /= 10;
        }

        pos += width;
    }

    /// <summary>Packet time as seconds with six decimals (microseconds, rounded towards negative infinity).</summary>
    public static void Timestamp(Span<byte> dst, ref int pos, long ns)
    {
        long us = ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
        long seconds = Math.DivRem(us, 1_000_000, out long micros);
        if (micros < 0)
        {
            seconds--;
            micros += 1_000_000;
        }

        Int(dst, ref pos, seconds);
        dst[pos++] = (byte)'.';
        Utf8Formatter.TryFormat((uint)micros, dst[pos..], out int n, new StandardFormat('D', 6));
        pos += n;
    }

    /// <summary>A JSON string (quotes included) of UTF-16 text; lone surrogates become U+FFFD.</summary>
    public static void String(Span<byte> dst, ref int pos, ReadOnlySpan<char> value)
    {
        dst[pos++] = (byte)'"';
        int i = 0;
        while (i < value.Length)
        {
            int run = value[i..].IndexOfAnyExcept(s_allowedChars);
            run = run < 0 ? value.Length - i : run;
            if (run > 0)
            {
                Ascii.FromUtf16(value.Slice(i, run), dst[pos..], out int written);
                pos += written;
                i += run;
                continue;
            }

            char c = value[i];
            if (c < 0x80)
            {
                if (Allowed[c] != 0)
                {
                    dst[pos++] = (byte)c;
                }
                else
                {
                    EscapeAscii(dst, ref pos, (byte)c);
                }

                i++;
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                EscapeUnit(dst, ref pos, c);
                EscapeUnit(dst, ref pos, value[i + 1]);
                i += 2;
                continue;
            }

            EscapeUnit(dst, ref pos, char.IsSurrogate(c) ? '\uFFFD' : c);
            i++;
        }

        dst[pos++] = (byte)'"';
    }

    /// <summary>
    /// A JSON string (quotes included) of wire bytes read as UTF-8: invalid sequences become U+FFFD as
    /// <see cref="Encoding.UTF8"/>'s GetString replaces them, then escaped as <see cref="String(Span{byte}, ref int, ReadOnlySpan{char})"/>.
    /// </summary>
    public static void StringUtf8(Span<byte> dst, ref int pos, ReadOnlySpan<byte> value)
    {
        dst[pos++] = (byte)'"';
        int i = 0;
        while (i < value.Length)
        {
            int run = value[i..].IndexOfAnyExcept(s_allowedBytes);
            run = run < 0 ? value.Length - i : run;
            if (run > 0)
            {
                value.Slice(i, run).CopyTo(dst[pos..]);
                pos += run;
                i += run;
                continue;
            }

            byte b = value[i];
            if (b < 0x80)
            {
                if (Allowed[b] != 0)
                {
                    dst[pos++] = b;
                }
                else
                {
                    EscapeAscii(dst, ref pos, b);
                }

                i++;
                continue;
            }

            OperationStatus status = Rune.DecodeFromUtf8(value[i..], out Rune rune, out int consumed);
            if (status != OperationStatus.Done)
            {
                rune = Rune.ReplacementChar;
            }

            if (rune.IsBmp)
            {
                EscapeUnit(dst, ref pos, (char)rune.Value);
            }
            else
            {
                int v = rune.Value - 0x10000;
                EscapeUnit(dst, ref pos, (char)(0xD800 + (v >> 10)));
                EscapeUnit(dst, ref pos, (char)(0xDC00 + (v & 0x3FF)));
            }

            i += consumed;
        }

        dst[pos++] = (byte)'"';
    }

    private static byte[] AllowedSet()
    {
        var set = new List<byte>();
        for (int b = 0; b < 0x80; b++)
        {
            if (Allowed[b] != 0)
            {
                set.Add((byte)b);
            }
        }

        return [.. set];
    }

    private static void EscapeAscii(Span<byte> dst, ref int pos, byte b)
    {
        dst[pos++] = (byte)'\\';
        switch (b)
        {
            case (byte)'\n':
                dst[pos++] = (byte)'n';
                break;
            case (byte)'\r':
                dst[pos++] = (byte)'r';
                break;
            case (byte)'\t':
                dst[pos++] = (byte)'t';
                break;
            case (byte)'\\':
                dst[pos++] = (byte)'\\';
                break;
            case (byte)'\b':
                dst[pos++] = (byte)'b';
                break;
            case (byte)'\f':
                dst[pos++] = (byte)'f';
                break;
            default:
                pos--;
                EscapeUnit(dst, ref pos, (char)b);
                break;
        }
    }

    private static void EscapeUnit(Span<byte> dst, ref int pos, char c)
    {
        dst[pos] = (byte)'\\';
        dst[pos + 1] = (byte)'u';
        dst[pos + 2] = Hex[c >> 12];
        dst[pos + 3] = Hex[(c >> 8) & 0xF];
        dst[pos + 4] = Hex[(c >> 4) & 0xF];
        dst[pos + 5] = Hex[c & 0xF];
        pos += 6;
    }

    /// <summary>An address as <see cref="System.Net.IPAddress.ToString()"/> prints it: dotted quad, or RFC 5952 text.</summary>
    public static void Ip(Span<byte> dst, ref int pos, in IpAddress address, int ipVersion)
    {
        Span<byte> raw = stackalloc byte[16];
        address.WriteBytes(raw);
        if (ipVersion == 4)
        {
            V4(dst, ref pos, raw);
            return;
        }

        Span<ushort> words = stackalloc ushort[8];
        for (int i = 0; i < 8; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt16BigEndian(raw[(2 * i)..]);
        }

        if (EmbedsV4(words))
        {
            Sections(dst, ref pos, words[..6]);
            if (dst[pos - 1] != (byte)':')
            {
                dst[pos++] = (byte)':';
            }

            V4(dst, ref pos, raw[12..]);
        }
        else
        {
            Sections(dst, ref pos, words);
        }
    }

    private static void V4(Span<byte> dst, ref int pos, ReadOnlySpan<byte> raw)
    {
        for (int i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                dst[pos++] = (byte)'.';
            }

            UInt(dst, ref pos, raw[i]);
        }
    }

    // RFC 5952 section 5 (::x.x.x.x and ::ffff:x.x.x.x), SIIT (::ffff:0:x.x.x.x) and ISATAP, as System.Net prints them.
    private static bool EmbedsV4(ReadOnlySpan<ushort> w)
    {
        if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[6] != 0)
        {
            if (w[4] == 0 && (w[5] == 0 || w[5] == 0xFFFF))
            {
                return true;
            }

            if (w[4] == 0xFFFF && w[5] == 0)
            {
                return true;
            }
        }

        return w[4] == 0 && w[5] == 0x5EFE;
    }

    // The longest run of two or more zero words (the first of equals) becomes "::"; hex in lower case, no leading zeros.
    private static void Sections(Span<byte> dst, ref int pos, ReadOnlySpan<ushort> w)
    {
        int bestStart = -1, bestLength = 0, run = 0;
        for (int i = 0; i < w.Length; i++)
        {
            if (w[i] == 0)
            {
                run++;
                if (run > bestLength)
                {
                    bestLength = run;
                    bestStart = i - run + 1;
                }
            }
            else
            {
                run = 0;
            }
        }

        bool colon = false;
        if (bestLength > 1)
        {
            for (int i = 0; i < bestStart; i++)
            {
                if (colon)
                {
                    dst[pos++] = (byte)':';
                }

                colon = true;
                HexWord(dst, ref pos, w[i]);
            }

            dst[pos++] = (byte)':';
            dst[pos++] = (byte)':';
            colon = false;
            w = w[(bestStart + bestLength)..];
        }

        for (int i = 0; i < w.Length; i++)
        {
            if (colon)
            {
                dst[pos++] = (byte)':';
            }

            colon = true;
            HexWord(dst, ref pos, w[i]);
        }
    }

    private static void HexWord(Span<byte> dst, ref int pos, ushort v)
    {
        int shift = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0;
        for (; shift >= 0; shift -= 4)
        {
            dst[pos++] = LowerHex[(v >> shift) & 0xF];
        }
    }
}
