// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>
/// Where a VM's resource state at a time comes from: the live <see cref="VmStateStore"/> (the latest samples) or a
/// recorded <see cref="VmStateTimeline"/> (the samples around the time). Safe to call from many threads at once.
/// </summary>
public interface IVmStateSource
{
    /// <summary>The state of <paramref name="vmName"/> at <paramref name="timeNs"/>.</summary>
    /// <param name="vmName">The VM's name (<see cref="VmInfo.Name"/>).</param>
    /// <param name="timeNs">The time asked about, UTC nanoseconds since the Unix epoch (a packet's time).</param>
    /// <param name="state">The state; default when there is none.</param>
    /// <returns>False when the source has no sample of the VM (at or before the time, for a timeline).</returns>
    bool TryGetState(string vmName, long timeNs, out VmResourceState state);
}
