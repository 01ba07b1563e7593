// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Context;

namespace FlowEngine.Interop.VmState;

/// <summary>
/// VM resource state from cgroup v2: <c>cpu.stat</c> (<c>usage_usec</c>), <c>memory.current</c> and <c>io.stat</c>
/// (<c>rbytes</c> and <c>wbytes</c> summed over devices) of each VM's cgroup directory. The VMs come from an explicit
/// map (name to directory) and, when a root is given, from libvirt's layout under it (<see cref="LibvirtCgroups"/>).
/// </summary>
/// <remarks>
/// <c>cpu.stat</c>'s usage is kept by the cgroup core and exists whether or not the cpu controller is enabled;
/// <c>memory.current</c> and <c>io.stat</c> exist only where the memory and io controllers are enabled for the cgroup
/// (in its parent's <c>cgroup.subtree_control</c>). Without them those fields are not valid and the files are counted
/// in <see cref="VmStateProviderStatistics.UnavailableFiles"/>. Files stay open between samples; a sample is three
/// preads and no allocation.
/// </remarks>
public sealed class CgroupV2StateProvider : IVmStateProvider, IDisposable
{
    private readonly KeyValuePair<string, string>[] _explicit;
    private readonly string? _libvirtRoot;
    private readonly StatFileSet _files = new();

    /// <summary>A provider over <paramref name="cgroups"/> and, when <paramref name="libvirtRoot"/> is set, libvirt's domains under it.</summary>
    /// <param name="cgroups">VM name to its cgroup directory (absolute, or relative to <paramref name="libvirtRoot"/> or the v2 mount).</param>
    /// <param name="libvirtRoot">The v2 hierarchy's root to discover libvirt domains under (e.g. <c>/sys/fs/cgroup</c>); null for none.</param>
    public CgroupV2StateProvider(IReadOnlyDictionary<string, string>? cgroups = null, string? libvirtRoot = null)
    {
        _libvirtRoot = libvirtRoot;
        string? root = libvirtRoot ?? (cgroups?.Values.Any(v => !Path.IsPathRooted(v)) == true ? CgroupMounts.Read().V2Root : null);
        _explicit = [.. (cgroups ?? new Dictionary<string, string>()).Select(kv =>
            new KeyValuePair<string, string>(kv.Key, Path.IsPathRooted(kv.Value) || root is null ? kv.Value : Path.Combine(root, kv.Value)))];
        Refresh();
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> VmNames => _files.VmNames;

    /// <summary>VMs, unavailable files, read errors and malformed files.</summary>
    public VmStateProviderStatistics Statistics => _files.Statistics;

    /// <inheritdoc/>
    public void Refresh()
    {
        var found = new List<DiscoveredVm>();
        foreach ((string name, string dir) in _explicit)
        {
            found.Add(Vm(name, dir));
        }

        if (_libvirtRoot is not null)
        {
            foreach ((string name, string relative) in LibvirtCgroups.Discover(_libvirtRoot))
            {
                found.Add(Vm(name, Path.Combine(_libvirtRoot, relative)));
            }
        }

        _files.Update(found);
    }

    /// <inheritdoc/>
    public bool TryRead(int index, long timeNs, out VmResourceSample sample) => _files.TryRead(index, timeNs, out sample);

    /// <summary>Closes the files.</summary>
    public void Dispose() => _files.Dispose();

    private static DiscoveredVm Vm(string name, string dir)
        => new(name, dir,
        [
            (Path.Combine(dir, "cpu.stat"), StatKind.V2CpuStat),
            (Path.Combine(dir, "memory.current"), StatKind.V2MemoryCurrent),
            (Path.Combine(dir, "io.stat"), StatKind.V2IoStat),
        ]);
}
