// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>
/// Reads the heads of HTTP/1.x requests and responses from the first payload of a direction: request or status line,
/// then header fields up to the empty line or the payload's end (a head cut by the segment yields what is present).
/// Header names compare without case, values are trimmed of optional whitespace, bare LF line ends are accepted. Never
/// throws; at most <see cref="MaxHeaderLines"/> header lines are looked at.
/// </summary>
public static class HttpParser
{
    /// <summary>Header lines read at most.</summary>
    public const int MaxHeaderLines = 64;

    private static ReadOnlySpan<byte> HttpSlash => "HTTP/"u8;

    /// <summary>True when <paramref name="payload"/> starts like a request line: a known method, a space, and a target.</summary>
    /// <param name="payload">The first payload of the originator.</param>
    /// <returns>True for a request.</returns>
    public static bool LooksLikeRequest(ReadOnlySpan<byte> payload)
    {
        int space = payload[..Math.Min(payload.Length, 18)].IndexOf((byte)' ');
        return space > 0 && IsMethod(payload[..space]) && payload.Length > space + 1 && payload[space + 1] is (byte)'/' or (byte)'*' or (byte)'h' or (byte)'H' or > (byte)' ';
    }

    /// <summary>True when <paramref name="payload"/> starts like a status line ("HTTP/1.x NNN").</summary>
    /// <param name="payload">The first payload of the responder.</param>
    /// <returns>True for a response.</returns>
    public static bool LooksLikeResponse(ReadOnlySpan<byte> payload)
        => payload.Length >= 12 && payload.StartsWith(HttpSlash) && payload[6] == (byte)'.' && payload[8] == (byte)' '
        && IsDigit(payload[9]) && IsDigit(payload[10]) && IsDigit(payload[11]);

    /// <summary>Reads a request head.</summary>
    /// <param name="payload">The payload.</param>
    /// <param name="info">Ranges into <paramref name="payload"/>.</param>
    /// <returns>False unless the request line parses.</returns>
    public static bool TryParseRequest(ReadOnlySpan<byte> payload, out HttpRequestInfo info)
    {
        info = default;
        ReadOnlySpan<byte> line = NextLine(payload, 0, out int next);
        int sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0 || !IsToken(line[..sp1]))
        {
            return false;
        }

        info.Method = new TextRange(0, sp1);
        ReadOnlySpan<byte> rest = line[(sp1 + 1)..];
        int sp2 = rest.LastIndexOf((byte)' ');
        if (sp2 > 0 && rest[(sp2 + 1)..].StartsWith(HttpSlash))
        {
            info.Uri = new TextRange(sp1 + 1, sp2);
            info.Version = new TextRange(sp1 + 1 + sp2 + 1, rest.Length - sp2 - 1);
        }
        else if (rest.Length > 0 && rest.IndexOf((byte)' ') < 0 && next >= 0)
        {
            // HTTP/0.9: "GET /path" alone on its line, no headers follow.
            info.Uri = new TextRange(sp1 + 1, rest.Length);
            info.HeadersComplete = true;
            return true;
        }
        else if (rest.Length > 0 && next < 0)
        {
            // The line is cut before its version: the target is what is present.
            int end = rest.IndexOf((byte)' ');
            info.Uri = new TextRange(sp1 + 1, end < 0 ? rest.Length : end);
            return true;
        }
        else
        {
            return false;
        }

        ReadHeaders(payload, next, ref info.HeadersComplete, out info.Host, out info.UserAgent, out _, out _);
        return true;
    }

    /// <summary>Reads a response head.</summary>
    /// <param name="payload">The payload.</param>
    /// <param name="info">Ranges into <paramref name="payload"/>.</param>
    /// <returns>False unless the status line parses.</returns>
    public static bool TryParseResponse(ReadOnlySpan<byte> payload, out HttpResponseInfo info)
    {
        info = default;
        info.ContentLength = -1;
        if (!LooksLikeResponse(payload))
        {
            return false;
        }

        ReadOnlySpan<byte> line = NextLine(payload, 0, out int next);
        info.Version = new TextRange(0, 8);
        info.StatusCode = ((payload[9] - '0') * 100) + ((payload[10] - '0') * 10) + (payload[11] - '0');
        if (line.Length > 13)
        {
            info.Reason = new TextRange(13, line.Length - 13);
        }

        ReadHeaders(payload, next, ref info.HeadersComplete, out _, out _, out info.ContentType, out TextRange length);
        if (!length.IsEmpty && long.TryParse(length.Of(payload), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n))
        {
            info.ContentLength = n;
        }

        return true;
    }

    private static void ReadHeaders(ReadOnlySpan<byte> payload, int start, ref bool complete, out TextRange host, out TextRange userAgent, out TextRange contentType, out TextRange contentLength)
    {
        host = userAgent = contentType = contentLength = default;
        int pos = start;
        for (int lines = 0; pos >= 0 && pos < payload.Length && lines < MaxHeaderLines; lines++)
        {
            ReadOnlySpan<byte> line = NextLine(payload, pos, out int next);
            if (next < 0)
            {
                // A header line cut by the segment's end is not used: its value may be incomplete.
                return;
            }

            if (line.IsEmpty)
            {
                complete = true;
                return;
            }

            int colon = line.IndexOf((byte)':');
            if (colon > 0)
            {
                ReadOnlySpan<byte> name = line[..colon];
                int valueStart = colon + 1;
                int valueEnd = line.Length;
                while (valueStart < valueEnd && line[valueStart] is (byte)' ' or (byte)'\t')
                {
                    valueStart++;
                }

                while (valueEnd > valueStart && line[valueEnd - 1] is (byte)' ' or (byte)'\t')
                {
                    valueEnd--;
                }

                var value = new TextRange(pos + valueStart, valueEnd - valueStart);
                if (Equals(name, "host"u8) && host.IsEmpty)
                {
                    host = value;
                }
                else if (Equals(name, "user-agent"u8) && userAgent.IsEmpty)
                {
                    userAgent = value;
                }
                else if (Equals(name, "content-type"u8) && contentType.IsEmpty)
                {
                    contentType = value;
                }
                else if (Equals(name, "content-length"u8) && contentLength.IsEmpty)
                {
                    contentLength = value;
                }
            }

            pos = next;
        }
    }

    // The line at start without its CR LF (or bare LF); next is the offset after it, -1 when the payload ends first.
    private static ReadOnlySpan<byte> NextLine(ReadOnlySpan<byte> payload, int start, out int next)
    {
        ReadOnlySpan<byte> rest = payload[start..];
        int lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            next = -1;
            return rest;
        }

        next = start + lf + 1;
        return lf > 0 && rest[lf - 1] == (byte)'\r' ? rest[..(lf - 1)] : rest[..lf];
    }

    private static bool Equals(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lower)
    {
        if (name.Length != lower.Length)
        {
            return false;
        }

        for (int i = 0; i < name.Length; i++)
        {
            if ((name[i] | 0x20) != lower[i] && name[i] != lower[i])
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static bool IsToken(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            if (b is <= (byte)' ' or >= 0x7F or (byte)'(' or (byte)')' or (byte)'<' or (byte)'>' or (byte)'@' or (byte)',' or (byte)';'
                or (byte)':' or (byte)'\\' or (byte)'"' or (byte)'/' or (byte)'[' or (byte)']' or (byte)'?' or (byte)'=' or (byte)'{' or (byte)'}')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsMethod(ReadOnlySpan<byte> m) =>
        m.SequenceEqual("GET"u8) || m.SequenceEqual("POST"u8) || m.SequenceEqual("HEAD"u8) || m.SequenceEqual("PUT"u8)
        || m.SequenceEqual("DELETE"u8) || m.SequenceEqual("OPTIONS"u8) || m.SequenceEqual("CONNECT"u8) || m.SequenceEqual("TRACE"u8)
        || m.SequenceEqual("PATCH"u8) || m.SequenceEqual("PROPFIND"u8) || m.SequenceEqual("PROPPATCH"u8) || m.SequenceEqual("MKCOL"u8)
        || m.SequenceEqual("COPY"u8) || m.SequenceEqual("MOVE"u8) || m.SequenceEqual("LOCK"u8) || m.SequenceEqual("UNLOCK"u8)
        || m.SequenceEqual("SEARCH"u8) || m.SequenceEqual("REPORT"u8);
}
