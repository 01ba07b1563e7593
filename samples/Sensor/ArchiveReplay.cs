// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Archive;
using FlowEngine.Context;
using FlowEngine.Flows;

namespace FlowEngine.Sensor;

/// <summary>
/// An archive (flows --archive) replayed for detect: its records in the order the writing run's sinks saw them, each
/// with its VMs resolved as that run resolved them (the inventory's VMs by name, the rest as learned ones, one object
/// per name) and its application metadata.
/// </summary>
internal sealed class ArchiveReplay(string directory, VmInventory? inventory)
{
    private readonly Dictionary<string, VmInfo> _vms = Index(inventory);

    /// <summary>Damage the last pass found (file and offset), to report.</summary>
    public IReadOnlyList<ArchiveIssue> Issues { get; private set; } = [];

    /// <summary>Calls <paramref name="each"/> for every archived flow, in append order.</summary>
    public int Run(FlowVisitor each)
    {
        var reader = new ArchiveReader(directory);
        int n = 0;
        foreach (ArchivedFlow f in reader.Read())
        {
            VmIdentity v = VmIdentity.Create(
                Vm(f.SourceVm), Vm(f.DestinationVm), f.SourceOutside, f.DestinationOutside, f.SourceGapSeconds ?? float.NaN, f.DestinationGapSeconds ?? float.NaN);
            FlowRecord r = f.Record;
            each(in r, in v, f.Metadata is null ? default : f.Metadata.View);
            n++;
        }

        Issues = reader.Issues;
        return n;
    }

    private VmInfo? Vm(string? name)
    {
        if (name is null)
        {
            return null;
        }

        if (!_vms.TryGetValue(name, out VmInfo? vm))
        {
            _vms[name] = vm = new VmInfo(name, VmSource.Learned);
        }

        return vm;
    }

    private static Dictionary<string, VmInfo> Index(VmInventory? inventory)
    {
        var byName = new Dictionary<string, VmInfo>(StringComparer.Ordinal);
        foreach (VmInfo vm in inventory?.Vms ?? [])
        {
            byName.TryAdd(vm.Name, vm);
        }

        return byName;
    }

    /// <summary>One archived flow with its context.</summary>
    public delegate void FlowVisitor(in FlowRecord record, in VmIdentity vms, AppMetadata metadata);
}
