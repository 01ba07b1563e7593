// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using FlowEngine.Context;

namespace FlowEngine.Interop.VmState;

/// <summary>
/// VM resource state from the hypervisor's QEMU processes through /proc: CPU time from <c>/proc/PID/stat</c> (utime +
/// stime, all threads, in clock ticks of <c>sysconf(_SC_CLK_TCK)</c>), memory from the <c>VmRSS</c> line of
/// <c>/proc/PID/status</c>, and disk bytes from <c>read_bytes</c> and <c>write_bytes</c> of <c>/proc/PID/io</c>. A
/// process is a VM when its executable name starts with <see cref="ExecutablePrefix"/> and its command line has
/// <c>-name guest=NAME,...</c> or <c>-name NAME</c> (as libvirt and people start QEMU).
/// </summary>
/// <remarks>
/// <c>/proc/PID/io</c> counts what the process made the block layer do: direct I/O (QEMU's <c>cache=none</c>) and
/// page-cache writes as they are dirtied, reads as they miss the cache. Files stay open between samples (one pread
/// each, no allocation); the process table is scanned again at each <see cref="Refresh"/>. When two processes claim
/// one name, the lower PID is the VM.
/// </remarks>
public sealed class QemuProcessStateProvider : IVmStateProvider, IDisposable
{
    private readonly string _proc;
    private readonly StatFileSet _files;

    /// <summary>A provider over the processes of <paramref name="procRoot"/>.</summary>
    /// <param name="procRoot">The proc file system; <c>/proc</c> by default.</param>
    /// <param name="executablePrefix">What the base name of a VM process's <c>argv[0]</c> starts with; empty for any process with <c>-name</c>.</param>
    public QemuProcessStateProvider(string procRoot = "/proc", string executablePrefix = "qemu")
    {
        ArgumentException.ThrowIfNullOrEmpty(procRoot);
        ArgumentNullException.ThrowIfNull(executablePrefix);
        _proc = procRoot;
        ExecutablePrefix = executablePrefix;
        long ticks = Native.Interop.Libc.Sysconf(Native.Interop.Libc.ScClkTck);
        ClockTicksPerSecond = ticks > 0 ? ticks : 100;
        _files = new StatFileSet(ClockTicksPerSecond);
        Refresh();
    }

    /// <summary>What the base name of a VM process's <c>argv[0]</c> starts with (<c>qemu</c>: qemu-system-x86_64, qemu-kvm).</summary>
    public string ExecutablePrefix { get; }

    /// <summary>The unit of <c>/proc/PID/stat</c> times (<c>sysconf(_SC_CLK_TCK)</c>, 100 on Linux).</summary>
    public long ClockTicksPerSecond { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> VmNames => _files.VmNames;

    /// <summary>VMs, unavailable files, read errors and malformed files.</summary>
    public VmStateProviderStatistics Statistics => _files.Statistics;

    /// <summary>The PID of each VM found at the last refresh.</summary>
    public IReadOnlyDictionary<string, int> Pids { get; private set; } = new Dictionary<string, int>();

    /// <inheritdoc/>
    public void Refresh()
    {
        var found = new SortedDictionary<int, string>();
        IEnumerable<string> dirs;
        try
        {
            dirs = Directory.EnumerateDirectories(_proc);
            foreach (string dir in dirs)
            {
                if (!int.TryParse(Path.GetFileName(dir.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    continue;
                }

                byte[] cmdline;
                try
                {
                    cmdline = File.ReadAllBytes(Path.Combine(dir, "cmdline"));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    continue; // Exited while scanning.
                }

                if (IsVmProcess(cmdline) && VmStatParsers.TryParseQemuName(cmdline, out string? name))
                {
                    found[pid] = name!;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc: no VMs.
        }

        var pids = new Dictionary<string, int>(StringComparer.Ordinal);
        var vms = new List<DiscoveredVm>();
        foreach ((int pid, string name) in found)
        {
            if (pids.TryAdd(name, pid))
            {
                string dir = Path.Combine(_proc, pid.ToString(CultureInfo.InvariantCulture));
                vms.Add(new DiscoveredVm(name, dir,
                [
                    (Path.Combine(dir, "stat"), StatKind.ProcStat),
                    (Path.Combine(dir, "status"), StatKind.ProcStatus),
                    (Path.Combine(dir, "io"), StatKind.ProcIo),
                ]));
            }
        }

        Pids = pids;
        _files.Update(vms);
    }

    /// <inheritdoc/>
    public bool TryRead(int index, long timeNs, out VmResourceSample sample) => _files.TryRead(index, timeNs, out sample);

    /// <summary>Closes the files.</summary>
    public void Dispose() => _files.Dispose();

    private bool IsVmProcess(ReadOnlySpan<byte> cmdline)
    {
        if (ExecutablePrefix.Length == 0)
        {
            return true;
        }

        int end = cmdline.IndexOf((byte)0);
        ReadOnlySpan<byte> argv0 = end >= 0 ? cmdline[..end] : cmdline;
        int slash = argv0.LastIndexOf((byte)'/');
        ReadOnlySpan<byte> baseName = slash >= 0 ? argv0[(slash + 1)..] : argv0;
        if (baseName.Length < ExecutablePrefix.Length)
        {
            return false;
        }

        for (int i = 0; i < ExecutablePrefix.Length; i++)
        {
            if (baseName[i] != ExecutablePrefix[i])
            {
                return false;
            }
        }

        return true;
    }
}
