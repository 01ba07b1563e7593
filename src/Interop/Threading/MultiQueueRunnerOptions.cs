// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Threading;

/// <summary>Settings of <see cref="MultiQueueRunner"/>.</summary>
public sealed class MultiQueueRunnerOptions
{
    /// <summary>
    /// CPU of each worker: worker i runs pinned to <c>Cpus[i % Cpus.Count]</c>. Null (the default) takes the CPUs
    /// the process may use, in order; an empty list leaves the workers unpinned.
    /// </summary>
    public IReadOnlyList<int>? Cpus { get; set; }

    /// <summary>Most batches each worker reads after cancellation to drain its queue. Default: 4096.</summary>
    public int MaxDrainBatches { get; set; } = 4096;

    /// <summary>Register the workers as DPDK lcores (rte_thread_register) when EAL is initialised. Default: true.</summary>
    public bool RegisterWithDpdk { get; set; } = true;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(MaxDrainBatches);
        if (Cpus is not null)
        {
            foreach (int cpu in Cpus)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(cpu);
            }
        }
    }
}
