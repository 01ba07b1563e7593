// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Context;

namespace FlowEngine.Interop.VmState;

/// <summary>A VM's cgroup directories in the v1 hierarchies it is accounted in; a null directory is not read.</summary>
/// <param name="Cpuacct">In the cpuacct hierarchy (<c>cpuacct.usage</c>).</param>
/// <param name="Memory">In the memory hierarchy (<c>memory.usage_in_bytes</c>).</param>
/// <param name="Blkio">In the blkio hierarchy (<c>blkio.throttle.io_service_bytes_recursive</c>).</param>
public sealed record CgroupV1Paths(string? Cpuacct, string? Memory, string? Blkio)
{
    /// <summary>The same cgroup path (relative to each hierarchy's root) in each mounted controller's hierarchy.</summary>
    /// <param name="mounts">The mounts.</param>
    /// <param name="relativePath">The cgroup path, e.g. <c>machine.slice/machine-qemu\x2d1\x2dweb.scope</c>.</param>
    /// <returns>The directories; null for a controller not mounted.</returns>
    public static CgroupV1Paths Under(CgroupMounts mounts, string relativePath)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        ArgumentNullException.ThrowIfNull(relativePath);
        string rel = relativePath.TrimStart('/');
        return new CgroupV1Paths(Join(mounts.V1Root("cpuacct"), rel), Join(mounts.V1Root("memory"), rel), Join(mounts.V1Root("blkio"), rel));
    }

    private static string? Join(string? root, string rel) => root is null ? null : Path.Combine(root, rel);
}

/// <summary>
/// VM resource state from cgroup v1: <c>cpuacct.usage</c> (nanoseconds), <c>memory.usage_in_bytes</c> and the
/// <c>Read</c> and <c>Write</c> lines of <c>blkio.throttle.io_service_bytes_recursive</c> summed over devices. The VMs
/// come from an explicit map and, when asked, from libvirt's layout in the cpuacct hierarchy (the same relative path
/// is used in the memory and blkio hierarchies).
/// </summary>
/// <remarks>
/// <para>Recent kernels (seen on 6.18) set blk-throttle up for a disk only once a <c>blkio.throttle.*_device</c> rule
/// names it, and keep these statistics only from then on; before, the file reads <c>Total 0</c>. A rule with a limit
/// no disk reaches (e.g. 1 TiB/s) turns the accounting on without throttling anything. Buffered
/// writes reach the disk from the flusher threads and v1 charges them to the root cgroup; direct I/O (what QEMU uses
/// with <c>cache=none</c>) is charged to the VM.</para>
/// <para>Files stay open between samples; a sample is three preads and no allocation.</para>
/// </remarks>
public sealed class CgroupV1StateProvider : IVmStateProvider, IDisposable
{
    private readonly KeyValuePair<string, CgroupV1Paths>[] _explicit;
    private readonly CgroupMounts? _discoverIn;
    private readonly StatFileSet _files = new();

    /// <summary>A provider over <paramref name="cgroups"/> and, when <paramref name="discoverIn"/> is set, libvirt's domains.</summary>
    /// <param name="cgroups">VM name to its directories.</param>
    /// <param name="discoverIn">The mounts whose cpuacct hierarchy is searched for libvirt's layout; null for none.</param>
    public CgroupV1StateProvider(IReadOnlyDictionary<string, CgroupV1Paths>? cgroups = null, CgroupMounts? discoverIn = null)
    {
        _explicit = [.. cgroups ?? new Dictionary<string, CgroupV1Paths>()];
        _discoverIn = discoverIn;
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
        foreach ((string name, CgroupV1Paths paths) in _explicit)
        {
            found.Add(Vm(name, paths));
        }

        if (_discoverIn?.V1Root("cpuacct") is string cpuacct)
        {
            foreach ((string name, string relative) in LibvirtCgroups.Discover(cpuacct))
            {
                found.Add(Vm(name, CgroupV1Paths.Under(_discoverIn, relative)));
            }
        }

        _files.Update(found);
    }

    /// <inheritdoc/>
    public bool TryRead(int index, long timeNs, out VmResourceSample sample) => _files.TryRead(index, timeNs, out sample);

    /// <summary>Closes the files.</summary>
    public void Dispose() => _files.Dispose();

    private static DiscoveredVm Vm(string name, CgroupV1Paths paths)
    {
        var files = new List<(string, StatKind)>(3);
        if (paths.Cpuacct is string c)
        {
            files.Add((Path.Combine(c, "cpuacct.usage"), StatKind.V1CpuacctUsage));
        }

        if (paths.Memory is string m)
        {
            files.Add((Path.Combine(m, "memory.usage_in_bytes"), StatKind.V1MemoryUsage));
        }

        if (paths.Blkio is string b)
        {
            string recursive = Path.Combine(b, "blkio.throttle.io_service_bytes_recursive");
            files.Add((File.Exists(recursive) ? recursive : Path.Combine(b, "blkio.throttle.io_service_bytes"), StatKind.V1BlkioServiceBytes));
        }

        return new DiscoveredVm(name, $"{paths.Cpuacct}|{paths.Memory}|{paths.Blkio}", [.. files]);
    }
}
