// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.VmState;

/// <summary>
/// Where the cgroup hierarchies are mounted (from <c>/proc/self/mounts</c>): the unified (v2) hierarchy and each v1
/// controller's. A pure v2 host has only <see cref="V2Root"/> (usually <c>/sys/fs/cgroup</c>); a hybrid host has v1
/// controllers under <c>/sys/fs/cgroup/NAME</c> and v2 at <c>/sys/fs/cgroup/unified</c>.
/// </summary>
public sealed class CgroupMounts
{
    private readonly Dictionary<string, string> _v1;

    private CgroupMounts(string? v2Root, Dictionary<string, string> v1)
    {
        V2Root = v2Root;
        _v1 = v1;
    }

    /// <summary>The mount point of the cgroup v2 hierarchy; null when none is mounted.</summary>
    public string? V2Root { get; }

    /// <summary>The v1 controllers mounted, by name (<c>cpuacct</c>, <c>memory</c>, <c>blkio</c>, ...), with their mount points.</summary>
    public IReadOnlyDictionary<string, string> V1Controllers => _v1;

    /// <summary>The mount point of the v1 hierarchy that has <paramref name="controller"/>; null when it is not mounted as v1.</summary>
    /// <param name="controller">The controller's name.</param>
    /// <returns>The directory, or null.</returns>
    public string? V1Root(string controller) => _v1.GetValueOrDefault(controller);

    /// <summary>Reads this process's mount table.</summary>
    /// <param name="mountsFile">The mount table; <c>/proc/self/mounts</c> by default.</param>
    /// <returns>The mounts.</returns>
    public static CgroupMounts Read(string mountsFile = "/proc/self/mounts")
    {
        string text;
        try
        {
            text = File.ReadAllText(mountsFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new CgroupMounts(null, []);
        }

        return Parse(text);
    }

    /// <summary>Parses a mount table in the <c>/proc/mounts</c> format.</summary>
    /// <param name="mounts">The text.</param>
    /// <returns>The mounts.</returns>
    public static CgroupMounts Parse(string mounts)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        string? v2 = null;
        var v1 = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in mounts.Split('\n'))
        {
            string[] f = line.Split(' ');
            if (f.Length < 4)
            {
                continue;
            }

            string dir = f[1].Replace("\\040", " ", StringComparison.Ordinal);
            if (f[2] == "cgroup2")
            {
                v2 ??= dir;
            }
            else if (f[2] == "cgroup")
            {
                foreach (string option in f[3].Split(','))
                {
                    if (option is "cpu" or "cpuacct" or "memory" or "blkio" or "pids" or "cpuset" or "devices" or "freezer" or "hugetlb"
                        or "net_cls" or "net_prio" or "perf_event" or "rdma" or "misc")
                    {
                        v1.TryAdd(option, dir);
                    }
                }
            }
        }

        return new CgroupMounts(v2, v1);
    }
}
