// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>
/// Reads an SSH identification line (RFC 4253 §4.2: <c>SSH-protoversion-softwareversion SP comments CR LF</c>, at most
/// 255 bytes). A server may send other lines first; up to <see cref="MaxLinesBefore"/> are skipped. Never throws.
/// </summary>
public static class SshBanner
{
    /// <summary>Lines before the identification line looked past at most.</summary>
    public const int MaxLinesBefore = 8;

    private const int MaxLength = 255;

    private static ReadOnlySpan<byte> Prefix => "SSH-"u8;

    /// <summary>True when <paramref name="payload"/> starts with an identification line's "SSH-N.N-".</summary>
    /// <param name="payload">A direction's first payload.</param>
    /// <returns>True for SSH.</returns>
    public static bool LooksLikeSsh(ReadOnlySpan<byte> payload)
        => payload.Length >= 8 && payload.StartsWith(Prefix) && (payload[4..].StartsWith("2.0-"u8) || payload[4..].StartsWith("1.99-"u8) || payload[4..].StartsWith("1.5-"u8));

    /// <summary>Finds the identification line.</summary>
    /// <param name="payload">A direction's first payload.</param>
    /// <param name="banner">The line without its CR LF (cut to 255 bytes, or at the payload's end).</param>
    /// <returns>False when no line starting with "SSH-" was found.</returns>
    public static bool TryParse(ReadOnlySpan<byte> payload, out TextRange banner)
    {
        banner = default;
        int pos = 0;
        for (int lines = 0; lines <= MaxLinesBefore && pos < payload.Length; lines++)
        {
            ReadOnlySpan<byte> rest = payload[pos..];
            int lf = rest.IndexOf((byte)'\n');
            int end = lf < 0 ? rest.Length : lf;
            if (rest.StartsWith(Prefix))
            {
                int length = end > 0 && rest[end - 1] == (byte)'\r' ? end - 1 : end;
                banner = new TextRange(pos, Math.Min(length, MaxLength));
                return length > Prefix.Length;
            }

            if (lf < 0)
            {
                return false;
            }

            pos += lf + 1;
        }

        return false;
    }
}
