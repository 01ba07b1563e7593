// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.IO.Hashing;

namespace FlowEngine.Detection;

/// <summary>
/// The shape of a DNS query name as a tunnel detector sees it: the registered domain it sits under, and the length,
/// entropy and encoding of the part in front of it (the subdomain, where tunnels put their data).
/// </summary>
/// <remarks>
/// The registered domain is the last two labels, or three when the second-level label has at most three characters
/// under a two-letter top-level domain (<c>example.co.uk</c>); no public-suffix list is consulted. A subdomain counts
/// as <see cref="Encoded"/> when its labels of 10 characters or more (where data rides; a short tag such as
/// <c>dnscat.</c> does not hide it) hold at least 16 characters all hexadecimal digits, or all of the base32 alphabet
/// with two or more of its digits, or at least 20 characters with a
/// Shannon entropy of 4 bits per character or more (random base64/base128 data; English words stay near 3.5).
/// </remarks>
public readonly struct DnsNameShape
{
    private DnsNameShape(int length, int labels, int longestLabel, int subdomainLength, double entropy, bool encoded, ulong domainHash, ulong nameHash, int domainStart)
    {
        Length = length;
        Labels = labels;
        LongestLabel = longestLabel;
        SubdomainLength = subdomainLength;
        Entropy = entropy;
        Encoded = encoded;
        DomainHash = domainHash;
        NameHash = nameHash;
        DomainStart = domainStart;
    }

    /// <summary>Characters in the name (without a trailing dot).</summary>
    public int Length { get; }

    /// <summary>Labels in the name.</summary>
    public int Labels { get; }

    /// <summary>Characters in its longest label.</summary>
    public int LongestLabel { get; }

    /// <summary>Characters of the subdomain (in front of the registered domain), dots excluded.</summary>
    public int SubdomainLength { get; }

    /// <summary>Shannon entropy of the subdomain's characters, bits per character (0 when there is none).</summary>
    public double Entropy { get; }

    /// <summary>Whether the subdomain looks like encoded data (see the remarks).</summary>
    public bool Encoded { get; }

    /// <summary>Hash of the registered domain, case-folded.</summary>
    public ulong DomainHash { get; }

    /// <summary>Hash of the whole name, case-folded.</summary>
    public ulong NameHash { get; }

    /// <summary>Offset of the registered domain in the name.</summary>
    public int DomainStart { get; }

    /// <summary>Analyses a query name (ASCII, dotted; a trailing dot is ignored).</summary>
    /// <param name="name">The name.</param>
    /// <returns>Its shape; all zero for an empty name.</returns>
    public static DnsNameShape Of(ReadOnlySpan<byte> name)
    {
        if (!name.IsEmpty && name[^1] == '.')
        {
            name = name[..^1];
        }

        if (name.IsEmpty || name.Length > 255)
        {
            return default;
        }

        Span<byte> folded = stackalloc byte[name.Length];
        int labels = 1, longest = 0, run = 0;
        for (int i = 0; i < name.Length; i++)
        {
            byte b = name[i];
            folded[i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
            if (b == '.')
            {
                labels++;
                longest = Math.Max(longest, run);
                run = 0;
            }
            else
            {
                run++;
            }
        }

        longest = Math.Max(longest, run);
        int domainStart = RegisteredDomainStart(folded);
        ReadOnlySpan<byte> sub = folded[..domainStart];
        Span<int> counts = stackalloc int[256];
        int chars = 0, hex = 0, base32 = 0, base32Digits = 0;
        int dataChars = 0;
        // Hex and base32 data is looked for in every label but the top-level one (a tool without a domain of its own
        // puts data in the last labels too); entropy only in the subdomain.
        int tldStart = folded.LastIndexOf((byte)'.') + 1;
        ReadOnlySpan<byte> all = folded[..Math.Max(0, tldStart - 1)];
        for (ReadOnlySpan<byte> rest = all; !rest.IsEmpty;)
        {
            int dot = rest.IndexOf((byte)'.');
            ReadOnlySpan<byte> l = dot < 0 ? rest : rest[..dot];
            int offset = all.Length - rest.Length;
            rest = dot < 0 ? default : rest[(dot + 1)..];
            if (offset < domainStart)
            {
                chars += l.Length;
                foreach (byte b in l)
                {
                    counts[b]++;
                }
            }

            // Data rides in long labels: a short fixed prefix (dnscat., a tool's tag) does not hide it.
            if (l.Length < 10)
            {
                continue;
            }

            dataChars += l.Length;
            foreach (byte b in l)
            {
                if (b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f'))
                {
                    hex++;
                }

                if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'2' and <= (byte)'7'))
                {
                    base32++;
                    base32Digits += b is >= (byte)'2' and <= (byte)'7' ? 1 : 0;
                }
            }
        }

        double entropy = 0;
        if (chars > 0)
        {
            foreach (int c in counts)
            {
                if (c > 0)
                {
                    double p = c / (double)chars;
                    entropy -= p * Math.Log2(p);
                }
            }
        }

        bool encoded = (dataChars >= 16 && hex == dataChars)
            || (dataChars >= 16 && base32 == dataChars && base32Digits >= 2)
            || (chars >= 20 && entropy >= 4.0);
        return new DnsNameShape(
            name.Length, labels, longest, chars, entropy, encoded, XxHash3.HashToUInt64(folded[domainStart..]), XxHash3.HashToUInt64(folded), domainStart);
    }

    // Where the registered domain starts: the last two labels, three under a short second level of a two-letter TLD.
    private static int RegisteredDomainStart(ReadOnlySpan<byte> name)
    {
        int last = name.LastIndexOf((byte)'.');
        if (last < 0)
        {
            return 0;
        }

        int second = name[..last].LastIndexOf((byte)'.');
        if (second < 0)
        {
            return 0;
        }

        int tld = name.Length - last - 1, sld = last - second - 1;
        if (tld == 2 && sld <= 3)
        {
            int third = name[..second].LastIndexOf((byte)'.');
            return third < 0 ? 0 : third + 1;
        }

        return second + 1;
    }
}
