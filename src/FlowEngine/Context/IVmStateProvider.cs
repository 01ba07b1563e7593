// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>
/// Reads VMs' resource counters from where the platform keeps them (cgroups, /proc, an agent). A
/// <see cref="VmStateSampler"/> calls it from one thread: <see cref="Refresh"/> now and then, <see cref="TryRead"/>
/// for each VM every interval. Reads should not allocate in steady state; errors are returned, never thrown.
/// </summary>
public interface IVmStateProvider
{
    /// <summary>
    /// The VMs the provider knows, by name, as of the last <see cref="Refresh"/>; indexes for <see cref="TryRead"/>. A
    /// refresh that changes the set replaces the list with a new instance (the sampler maps names again only then).
    /// </summary>
    IReadOnlyList<string> VmNames { get; }

    /// <summary>Finds the VMs again (VMs started or stopped). May allocate.</summary>
    void Refresh();

    /// <summary>Reads one sample of the VM at <paramref name="index"/> of <see cref="VmNames"/>.</summary>
    /// <param name="index">The VM's index.</param>
    /// <param name="timeNs">The time to stamp the sample with, UTC nanoseconds since the Unix epoch.</param>
    /// <param name="sample">The sample; fields the provider could not read are not valid.</param>
    /// <returns>False when nothing could be read (the VM is gone, or every file was missing or malformed).</returns>
    bool TryRead(int index, long timeNs, out VmResourceSample sample);
}
