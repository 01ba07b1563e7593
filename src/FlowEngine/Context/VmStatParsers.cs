// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Text;

namespace FlowEngine.Context;

/// <summary>
/// Parsers of the kernel files VM resource providers read (cgroup v2 and v1, /proc), over the file's bytes: no
/// allocation, no exception; malformed content returns false. The providers in FlowEngine.Interop use them; they are
/// public for platforms that read the same files their own way.
/// </summary>
public static class VmStatParsers
{
    /// <summary>cgroup v2 <c>cpu.stat</c>: the <c>usage_usec</c> line, as nanoseconds.</summary>
    /// <param name="content">The file.</param>
    /// <param name="usageNs">CPU time used, nanoseconds.</param>
    /// <returns>False when the line is missing or its value is not a number.</returns>
    public static bool TryParseCgroupV2CpuStat(ReadOnlySpan<byte> content, out long usageNs)
    {
        if (TryFindKeyValue(content, "usage_usec"u8, (byte)' ', out long usec) && usec <= long.MaxValue / 1000)
        {
            usageNs = usec * 1000;
            return true;
        }

        usageNs = 0;
        return false;
    }

    /// <summary>A file that holds one non-negative integer and a line break (<c>memory.current</c>, <c>cpuacct.usage</c>, <c>memory.usage_in_bytes</c>).</summary>
    /// <param name="content">The file.</param>
    /// <param name="value">The value.</param>
    /// <returns>False when the file is not one integer.</returns>
    public static bool TryParseSingleValue(ReadOnlySpan<byte> content, out long value)
    {
        content = TrimAscii(content);
        return Utf8Parser.TryParse(content, out value, out int consumed) && consumed == content.Length && value >= 0
            || Fail(out value);
    }

    /// <summary>cgroup v2 <c>io.stat</c>: <c>rbytes=</c> and <c>wbytes=</c> summed over the device lines.</summary>
    /// <param name="content">The file (empty when the cgroup has done no I/O: that is zero, not an error).</param>
    /// <param name="readBytes">Bytes read.</param>
    /// <param name="writeBytes">Bytes written.</param>
    /// <returns>False when a device line lacks either key or a value is not a number.</returns>
    public static bool TryParseCgroupV2IoStat(ReadOnlySpan<byte> content, out long readBytes, out long writeBytes)
    {
        readBytes = writeBytes = 0;
        foreach (Range lineRange in content.Split((byte)'\n'))
        {
            ReadOnlySpan<byte> line = TrimAscii(content[lineRange]);
            if (line.IsEmpty)
            {
                continue;
            }

            bool haveRead = false, haveWrite = false;
            bool first = true;
            foreach (Range fieldRange in line.Split((byte)' '))
            {
                ReadOnlySpan<byte> field = line[fieldRange];
                if (first)
                {
                    first = false;
                    if (field.IndexOf((byte)':') <= 0)
                    {
                        return Fail(out readBytes, out writeBytes); // Not MAJ:MIN.
                    }

                    continue;
                }

                if (field.StartsWith("rbytes="u8))
                {
                    if (!TryNonNegative(field[7..], out long v))
                    {
                        return Fail(out readBytes, out writeBytes);
                    }

                    readBytes += v;
                    haveRead = true;
                }
                else if (field.StartsWith("wbytes="u8))
                {
                    if (!TryNonNegative(field[7..], out long v))
                    {
                        return Fail(out readBytes, out writeBytes);
                    }

                    writeBytes += v;
                    haveWrite = true;
                }
            }

            if (!haveRead || !haveWrite)
            {
                return Fail(out readBytes, out writeBytes);
            }
        }

        return true;
    }

    /// <summary>
    /// cgroup v1 <c>blkio.throttle.io_service_bytes</c> (or its <c>_recursive</c> twin): the <c>MAJ:MIN Read N</c> and
    /// <c>MAJ:MIN Write N</c> lines summed over devices; the <c>Total</c> and other operation lines are ignored.
    /// </summary>
    /// <param name="content">The file.</param>
    /// <param name="readBytes">Bytes read.</param>
    /// <param name="writeBytes">Bytes written.</param>
    /// <returns>False when a line has neither shape (device line of 3 fields, or <c>Total N</c>) or a value is not a number.</returns>
    public static bool TryParseBlkioServiceBytes(ReadOnlySpan<byte> content, out long readBytes, out long writeBytes)
    {
        readBytes = writeBytes = 0;
        bool sawTotal = false;
        foreach (Range lineRange in content.Split((byte)'\n'))
        {
            ReadOnlySpan<byte> line = TrimAscii(content[lineRange]);
            if (line.IsEmpty)
            {
                continue;
            }

            int n = 0;
            Range f0 = default, f1 = default, f2 = default;
            foreach (Range r in line.Split((byte)' '))
            {
                if (line[r].IsEmpty)
                {
                    continue;
                }

                switch (n++)
                {
                    case 0: f0 = r; break;
                    case 1: f1 = r; break;
                    case 2: f2 = r; break;
                }
            }

            if (n == 2 && line[f0].SequenceEqual("Total"u8))
            {
                if (!TryNonNegative(line[f1], out _))
                {
                    return Fail(out readBytes, out writeBytes);
                }

                sawTotal = true;
                continue;
            }

            if (n != 3 || line[f0].IndexOf((byte)':') <= 0 || !TryNonNegative(line[f2], out long v))
            {
                return Fail(out readBytes, out writeBytes);
            }

            ReadOnlySpan<byte> op = line[f1];
            if (op.SequenceEqual("Read"u8))
            {
                readBytes += v;
            }
            else if (op.SequenceEqual("Write"u8))
            {
                writeBytes += v;
            }
        }

        return sawTotal || Fail(out readBytes, out writeBytes);
    }

    /// <summary><c>/proc/PID/stat</c>: utime + stime (fields 14 and 15), in clock ticks.</summary>
    /// <param name="content">The file.</param>
    /// <param name="ticks">User and system time, clock ticks (<c>sysconf(_SC_CLK_TCK)</c> per second).</param>
    /// <returns>False when the file is cut short or the fields are not numbers.</returns>
    public static bool TryParseProcStat(ReadOnlySpan<byte> content, out long ticks)
    {
        // "PID (comm) S ppid ..." where comm may hold spaces and parentheses: the fields start after the last ')'.
        int close = content.LastIndexOf((byte)')');
        if (close < 0)
        {
            return Fail(out ticks);
        }

        ReadOnlySpan<byte> rest = content[(close + 1)..];
        int field = 2;
        long utime = -1;
        foreach (Range r in rest.Split((byte)' '))
        {
            ReadOnlySpan<byte> token = rest[r];
            if (token.IsEmpty)
            {
                continue;
            }

            field++;
            if (field == 14)
            {
                if (!TryNonNegative(token, out utime))
                {
                    return Fail(out ticks);
                }
            }
            else if (field == 15)
            {
                if (!TryNonNegative(token, out long stime))
                {
                    return Fail(out ticks);
                }

                ticks = utime + stime;
                return true;
            }
        }

        return Fail(out ticks);
    }

    /// <summary><c>/proc/PID/status</c>: the <c>VmRSS:</c> line (kB), as bytes.</summary>
    /// <param name="content">The file.</param>
    /// <param name="rssBytes">Resident set size, bytes.</param>
    /// <returns>False when the line is missing (a kernel thread, a zombie) or malformed.</returns>
    public static bool TryParseProcStatusRss(ReadOnlySpan<byte> content, out long rssBytes)
    {
        int at = IndexOfLine(content, "VmRSS:"u8);
        if (at < 0)
        {
            return Fail(out rssBytes);
        }

        ReadOnlySpan<byte> line = content[(at + 6)..];
        int end = line.IndexOf((byte)'\n');
        line = TrimAscii(end >= 0 ? line[..end] : line);
        if (!line.EndsWith(" kB"u8) || !TryNonNegative(TrimAscii(line[..^3]), out long kb) || kb > long.MaxValue / 1024)
        {
            return Fail(out rssBytes);
        }

        rssBytes = kb * 1024;
        return true;
    }

    /// <summary><c>/proc/PID/io</c>: <c>read_bytes</c> and <c>write_bytes</c> (bytes the process made the block layer read and write).</summary>
    /// <param name="content">The file.</param>
    /// <param name="readBytes">Bytes read from storage.</param>
    /// <param name="writeBytes">Bytes written to storage.</param>
    /// <returns>False when either line is missing or malformed.</returns>
    public static bool TryParseProcIo(ReadOnlySpan<byte> content, out long readBytes, out long writeBytes)
    {
        if (TryFindKeyValue(content, "read_bytes:"u8, (byte)' ', out readBytes) && TryFindKeyValue(content, "write_bytes:"u8, (byte)' ', out writeBytes))
        {
            return true;
        }

        return Fail(out readBytes, out writeBytes);
    }

    /// <summary>
    /// The guest name of a QEMU command line (<c>/proc/PID/cmdline</c>, arguments separated by NUL): the value of
    /// <c>-name guest=NAME,...</c>, or of <c>-name NAME</c> / <c>-name NAME,process=...</c> (QEMU's implied first key),
    /// with QEMU's <c>,,</c> as a literal comma.
    /// </summary>
    /// <param name="cmdline">The command line.</param>
    /// <param name="name">The name; null when there is none.</param>
    /// <returns>False when the command line has no <c>-name</c> with a non-empty guest name.</returns>
    public static bool TryParseQemuName(ReadOnlySpan<byte> cmdline, out string? name)
    {
        name = null;
        ReadOnlySpan<byte> value = default;
        bool found = false, next = false;
        foreach (Range r in cmdline.Split((byte)0))
        {
            ReadOnlySpan<byte> arg = cmdline[r];
            if (next)
            {
                value = arg;
                found = true;
                break;
            }

            next = arg.SequenceEqual("-name"u8) || arg.SequenceEqual("--name"u8);
        }

        if (!found || value.IsEmpty)
        {
            return false;
        }

        // QEMU options: key=value pairs split at ',' (",," is a literal comma); a first part without '=' is the name.
        Span<byte> part = stackalloc byte[256];
        int start = 0;
        bool firstPart = true;
        while (start <= value.Length)
        {
            int length = 0;
            int i = start;
            for (; i < value.Length; i++)
            {
                if (value[i] == (byte)',')
                {
                    if (i + 1 < value.Length && value[i + 1] == (byte)',')
                    {
                        if (length < part.Length)
                        {
                            part[length++] = (byte)',';
                        }

                        i++;
                        continue;
                    }

                    break;
                }

                if (length >= part.Length)
                {
                    return false; // Longer than any VM name.
                }

                part[length++] = value[i];
            }

            ReadOnlySpan<byte> p = part[..length];
            int eq = p.IndexOf((byte)'=');
            if (firstPart && eq < 0)
            {
                return Decode(p, out name);
            }

            if (eq > 0 && p[..eq].SequenceEqual("guest"u8))
            {
                return Decode(p[(eq + 1)..], out name);
            }

            firstPart = false;
            start = i + 1;
        }

        return false;
    }

    private static bool Decode(ReadOnlySpan<byte> bytes, out string? name)
    {
        if (bytes.IsEmpty || System.Text.Unicode.Utf8.IsValid(bytes) is false)
        {
            name = null;
            return false;
        }

        name = System.Text.Encoding.UTF8.GetString(bytes);
        return true;
    }

    private static bool TryFindKeyValue(ReadOnlySpan<byte> content, ReadOnlySpan<byte> key, byte separator, out long value)
    {
        int at = IndexOfLine(content, key);
        if (at < 0)
        {
            return Fail(out value);
        }

        ReadOnlySpan<byte> line = content[(at + key.Length)..];
        int end = line.IndexOf((byte)'\n');
        line = end >= 0 ? line[..end] : line;
        if (line.IsEmpty || (line[0] != separator && line[0] != (byte)'\t' && key[^1] != (byte)':'))
        {
            return Fail(out value);
        }

        return TryNonNegative(TrimAscii(line), out value);
    }

    /// <summary>The offset of the line that starts with <paramref name="key"/>, or -1.</summary>
    private static int IndexOfLine(ReadOnlySpan<byte> content, ReadOnlySpan<byte> key)
    {
        int offset = 0;
        while (offset < content.Length)
        {
            ReadOnlySpan<byte> rest = content[offset..];
            if (rest.StartsWith(key))
            {
                return offset;
            }

            int nl = rest.IndexOf((byte)'\n');
            if (nl < 0)
            {
                return -1;
            }

            offset += nl + 1;
        }

        return -1;
    }

    private static bool TryNonNegative(ReadOnlySpan<byte> text, out long value)
        => Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length && value >= 0 || Fail(out value);

    private static ReadOnlySpan<byte> TrimAscii(ReadOnlySpan<byte> text) => text.Trim(" \t\r\n\0"u8);

    private static bool Fail(out long value)
    {
        value = 0;
        return false;
    }

    private static bool Fail(out long a, out long b)
    {
        a = b = 0;
        return false;
    }
}
