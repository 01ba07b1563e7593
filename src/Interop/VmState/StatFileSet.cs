// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Context;

namespace FlowEngine.Interop.VmState;

/// <summary>Which counters a statistics file holds and how to parse it.</summary>
internal enum StatKind : byte
{
    V2CpuStat,
    V2MemoryCurrent,
    V2IoStat,
    V1CpuacctUsage,
    V1MemoryUsage,
    V1BlkioServiceBytes,
    ProcStat,
    ProcStatus,
    ProcIo,
}

/// <summary>A VM found by a provider: its name, what identifies its files (a cgroup path, a PID), and the files.</summary>
internal readonly record struct DiscoveredVm(string Name, string Key, (string Path, StatKind Kind)[] Files);

/// <summary>
/// The open statistics files of a provider's VMs and the parsing of one sample from them, shared by the cgroup v2,
/// cgroup v1 and /proc providers. One thread (the sampler's).
/// </summary>
internal sealed class StatFileSet : IDisposable
{
    private readonly double _nsPerTick;
    private VmFiles[] _vms = [];
    private string[] _names = [];
    private byte[] _buffer = new byte[16384];
    private long _readErrors, _malformed;
    private int _unavailable;

    public StatFileSet(long clockTicksPerSecond = 100) => _nsPerTick = 1e9 / clockTicksPerSecond;

    public IReadOnlyList<string> VmNames => _names;

    public VmStateProviderStatistics Statistics
        => new(_names.Length, Volatile.Read(ref _unavailable), Interlocked.Read(ref _readErrors), Interlocked.Read(ref _malformed));

    /// <summary>Takes the VMs found now: keeps the open files of VMs whose key did not change, opens the rest.</summary>
    public void Update(IEnumerable<DiscoveredVm> discovered)
    {
        var byName = new SortedDictionary<string, DiscoveredVm>(StringComparer.Ordinal);
        foreach (DiscoveredVm vm in discovered)
        {
            byName.TryAdd(vm.Name, vm); // The first wins: explicit maps come before discovery.
        }

        var old = new Dictionary<string, VmFiles>(StringComparer.Ordinal);
        foreach (VmFiles vm in _vms)
        {
            old[vm.Name] = vm;
        }

        var next = new VmFiles[byName.Count];
        int i = 0, unavailable = 0;
        foreach (DiscoveredVm vm in byName.Values)
        {
            if (old.Remove(vm.Name, out VmFiles? kept) && kept.Key == vm.Key)
            {
                next[i] = kept;
            }
            else
            {
                kept?.Dispose();
                next[i] = new VmFiles(vm);
            }

            foreach (StatFile file in next[i].Files)
            {
                if (!file.TryOpen())
                {
                    unavailable++;
                }
            }

            i++;
        }

        foreach (VmFiles gone in old.Values)
        {
            gone.Dispose();
        }

        bool same = next.Length == _names.Length;
        for (int k = 0; same && k < next.Length; k++)
        {
            same = next[k].Name == _names[k];
        }

        _vms = next;
        if (!same)
        {
            _names = [.. next.Select(v => v.Name)];
        }

        Volatile.Write(ref _unavailable, unavailable);
    }

    public bool TryRead(int index, long timeNs, out VmResourceSample sample)
    {
        if ((uint)index >= (uint)_vms.Length)
        {
            sample = default;
            return false;
        }

        VmFiles vm = _vms[index];
        VmResourceFields valid = VmResourceFields.None;
        long cpu = 0, memory = 0, read = 0, write = 0;
        for (int f = 0; f < vm.Files.Length; f++)
        {
            StatFile file = vm.Files[f];
            if (!file.IsOpen)
            {
                continue; // Missing at the last refresh: counted in UnavailableFiles, not as an error each round.
            }

            int n = file.Read(ref _buffer);
            if (n < 0)
            {
                Interlocked.Increment(ref _readErrors);
                continue;
            }

            ReadOnlySpan<byte> content = _buffer.AsSpan(0, n);
            if (Parse(vm.Kinds[f], content, ref valid, ref cpu, ref memory, ref read, ref write))
            {
                continue;
            }

            Interlocked.Increment(ref _malformed);
        }

        sample = new VmResourceSample(timeNs, valid, cpu, memory, read, write);
        return valid != VmResourceFields.None;
    }

    public void Dispose()
    {
        foreach (VmFiles vm in _vms)
        {
            vm.Dispose();
        }

        _vms = [];
        _names = [];
    }

    private bool Parse(StatKind kind, ReadOnlySpan<byte> content, ref VmResourceFields valid, ref long cpu, ref long memory, ref long read, ref long write)
    {
        long a, b;
        switch (kind)
        {
            case StatKind.V2CpuStat:
                if (!VmStatParsers.TryParseCgroupV2CpuStat(content, out a))
                {
                    return false;
                }

                cpu = a;
                valid |= VmResourceFields.Cpu;
                return true;
            case StatKind.V1CpuacctUsage:
                if (!VmStatParsers.TryParseSingleValue(content, out a))
                {
                    return false;
                }

                cpu = a;
                valid |= VmResourceFields.Cpu;
                return true;
            case StatKind.V2MemoryCurrent or StatKind.V1MemoryUsage:
                if (!VmStatParsers.TryParseSingleValue(content, out a))
                {
                    return false;
                }

                memory = a;
                valid |= VmResourceFields.Memory;
                return true;
            case StatKind.V2IoStat:
                if (!VmStatParsers.TryParseCgroupV2IoStat(content, out a, out b))
                {
                    return false;
                }

                break;
            case StatKind.V1BlkioServiceBytes:
                if (!VmStatParsers.TryParseBlkioServiceBytes(content, out a, out b))
                {
                    return false;
                }

                break;
            case StatKind.ProcIo:
                if (!VmStatParsers.TryParseProcIo(content, out a, out b))
                {
                    return false;
                }

                break;
            case StatKind.ProcStat:
                if (!VmStatParsers.TryParseProcStat(content, out a))
                {
                    return false;
                }

                cpu = (long)(a * _nsPerTick);
                valid |= VmResourceFields.Cpu;
                return true;
            case StatKind.ProcStatus:
                if (!VmStatParsers.TryParseProcStatusRss(content, out a))
                {
                    return false;
                }

                memory = a;
                valid |= VmResourceFields.Memory;
                return true;
            default:
                return false;
        }

        read = a;
        write = b;
        valid |= VmResourceFields.DiskRead | VmResourceFields.DiskWrite;
        return true;
    }

    private sealed class VmFiles : IDisposable
    {
        public VmFiles(DiscoveredVm vm)
        {
            Name = vm.Name;
            Key = vm.Key;
            Files = [.. vm.Files.Select(f => new StatFile(f.Path))];
            Kinds = [.. vm.Files.Select(f => f.Kind)];
        }

        public string Name { get; }

        public string Key { get; }

        public StatFile[] Files { get; }

        public StatKind[] Kinds { get; }

        public void Dispose()
        {
            foreach (StatFile f in Files)
            {
                f.Dispose();
            }
        }
    }
}
