// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;

namespace FlowEngine.Interop.VmState;

/// <summary>
/// libvirt's default cgroup layout for QEMU domains, relative to a hierarchy's root: with systemd,
/// <c>machine.slice/machine-qemu\x2dN\x2dNAME.scope</c> (systemd escapes <c>-</c> as <c>\x2d</c>); without,
/// <c>machine/NAME.libvirt-qemu</c> or <c>machine/qemu-N-NAME.libvirt-qemu</c>. libvirt shortens long domain names in
/// these directory names, so a name found here may be a prefix of the domain's; map such VMs explicitly.
/// </summary>
public static class LibvirtCgroups
{
    /// <summary>The domains under <paramref name="root"/> (a hierarchy's mount point), by name, with their directory relative to it.</summary>
    /// <param name="root">The hierarchy's root directory.</param>
    /// <returns>Domain name to relative cgroup directory; empty when there is none (or the layout is not present).</returns>
    public static IReadOnlyDictionary<string, string> Discover(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string dir, string suffix, string prefix) in new[] { ("machine.slice", ".scope", "machine-"), ("machine", ".libvirt-qemu", "") })
        {
            string parent = Path.Combine(root, dir);
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateDirectories(parent);
                foreach (string entry in entries)
                {
                    string leaf = Path.GetFileName(entry);
                    if (TryParseDirectoryName(leaf, prefix, suffix, out string? name))
                    {
                        found.TryAdd(name, dir + "/" + leaf);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // No such layout on this host.
            }
        }

        return found;
    }

    /// <summary>
    /// The domain name in a libvirt cgroup directory name: <c>machine-qemu\x2d3\x2dweb\x2d1.scope</c> is <c>web-1</c>;
    /// <c>qemu-3-web-1.libvirt-qemu</c> and <c>web-1.libvirt-qemu</c> are too.
    /// </summary>
    /// <param name="directoryName">The directory's name.</param>
    /// <param name="name">The domain name.</param>
    /// <returns>False when the name is not libvirt's.</returns>
    public static bool TryParseScopeName(string directoryName, out string? name)
    {
        ArgumentNullException.ThrowIfNull(directoryName);
        return TryParseDirectoryName(directoryName, "machine-", ".scope", out name)
            || TryParseDirectoryName(directoryName, "", ".libvirt-qemu", out name);
    }

    private static bool TryParseDirectoryName(string leaf, string prefix, string suffix, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name)
    {
        name = null;
        if (!leaf.StartsWith(prefix, StringComparison.Ordinal) || !leaf.EndsWith(suffix, StringComparison.Ordinal)
            || leaf.Length <= prefix.Length + suffix.Length)
        {
            return false;
        }

        string unit = UnescapeSystemd(leaf[prefix.Length..^suffix.Length]);
        if (unit.StartsWith("qemu-", StringComparison.Ordinal))
        {
            // qemu-ID-NAME: the domain id, then the name.
            int dash = unit.IndexOf('-', 5);
            if (dash > 5 && int.TryParse(unit.AsSpan(5, dash - 5), NumberStyles.None, CultureInfo.InvariantCulture, out _) && dash + 1 < unit.Length)
            {
                name = unit[(dash + 1)..];
                return true;
            }

            if (prefix.Length > 0)
            {
                return false; // A systemd machine scope of QEMU always has the id.
            }
        }
        else if (prefix.Length > 0)
        {
            return false; // machine-*.scope of another driver (lxc, nspawn).
        }

        name = unit;
        return name.Length > 0;
    }

    /// <summary>systemd's unit name unescaping: <c>\xHH</c> is the byte HH.</summary>
    private static string UnescapeSystemd(string text)
    {
        if (!text.Contains("\\x", StringComparison.Ordinal))
        {
            return text;
        }

        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && text[i + 1] == 'x'
                && byte.TryParse(text.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                bytes.Add(b);
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }
}
