// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.ComponentModel;
using System.Runtime.InteropServices;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Threading;

/// <summary>CPU affinity of the calling thread (sched_setaffinity / sched_getaffinity, Linux).</summary>
public static unsafe class CpuAffinity
{
    /// <summary>Pins the calling thread to one CPU.</summary>
    /// <param name="cpu">CPU number, 0 to 1023.</param>
    /// <exception cref="Win32Exception">The kernel refused (the CPU is offline or outside the cgroup's set).</exception>
    public static void PinCurrentThread(int cpu)
    {
        SetCurrentThread([cpu]);
    }

    /// <summary>Restricts the calling thread to a set of CPUs.</summary>
    /// <param name="cpus">CPU numbers.</param>
    public static void SetCurrentThread(IEnumerable<int> cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        // stackalloc memory is zeroed here (no SkipLocalsInit), so the mask starts empty.
        byte* mask = stackalloc byte[Libc.CpuSetBytes];
        foreach (int cpu in cpus)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(cpu);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, Libc.CpuSetBytes * 8);
            mask[cpu >> 3] |= (byte)(1 << (cpu & 7));
        }

        if (Libc.SchedSetAffinity(0, Libc.CpuSetBytes, mask) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new Win32Exception(errno, $"sched_setaffinity(CPUs {string.Join(',', cpus)}) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>The CPUs the calling thread may run on, ascending.</summary>
    /// <returns>CPU numbers.</returns>
    public static IReadOnlyList<int> GetCurrentThread()
    {
        byte* mask = stackalloc byte[Libc.CpuSetBytes];
        if (Libc.SchedGetAffinity(0, Libc.CpuSetBytes, mask) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new Win32Exception(errno, $"sched_getaffinity failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var cpus = new List<int>();
        for (int i = 0; i < Libc.CpuSetBytes * 8; i++)
        {
            if ((mask[i >> 3] & (1 << (i & 7))) != 0)
            {
                cpus.Add(i);
            }
        }

        return cpus;
    }
}
