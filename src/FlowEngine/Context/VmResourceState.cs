// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>
/// A VM's resource state at a moment, derived from its two latest samples: CPU share in cores and disk read and write
/// rates over the interval between them, memory in use at the latest, and how old the latest sample is.
/// </summary>
/// <remarks>
/// A rate is valid when both samples have its counter and the counter did not go backwards (a restarted VM or a new
/// cgroup resets it); memory needs only the latest sample. With one sample, only memory can be valid.
/// </remarks>
public readonly struct VmResourceState
{
    private VmResourceState(VmResourceFields valid, double cpuCores, long memoryBytes, double diskReadBytesPerSecond,
        double diskWriteBytesPerSecond, long sampleTimeNs, long intervalNs, long sampleAgeNs)
    {
        Valid = valid;
        CpuCores = cpuCores;
        MemoryBytes = memoryBytes;
        DiskReadBytesPerSecond = diskReadBytesPerSecond;
        DiskWriteBytesPerSecond = diskWriteBytesPerSecond;
        SampleTimeNs = sampleTimeNs;
        IntervalNs = intervalNs;
        SampleAgeNs = sampleAgeNs;
    }

    /// <summary>The fields that hold a value.</summary>
    public VmResourceFields Valid { get; }

    /// <summary>CPU share over the interval, in cores (1.0 is one core busy all the time).</summary>
    public double CpuCores { get; }

    /// <summary>Memory in use at the latest sample, bytes.</summary>
    public long MemoryBytes { get; }

    /// <summary>Bytes read from disk per second over the interval.</summary>
    public double DiskReadBytesPerSecond { get; }

    /// <summary>Bytes written to disk per second over the interval.</summary>
    public double DiskWriteBytesPerSecond { get; }

    /// <summary>The latest sample's time, UTC nanoseconds since the Unix epoch.</summary>
    public long SampleTimeNs { get; }

    /// <summary>Nanoseconds between the two samples the rates come from; 0 with one sample.</summary>
    public long IntervalNs { get; }

    /// <summary>How old the latest sample was at the time asked about, nanoseconds (negative when the sample is newer).</summary>
    public long SampleAgeNs { get; }

    /// <summary>Whether every field in <paramref name="fields"/> holds a value.</summary>
    /// <param name="fields">The fields.</param>
    /// <returns>True when all are valid.</returns>
    public bool Has(VmResourceFields fields) => (Valid & fields) == fields;

    /// <summary>The state from the latest sample and the one before it.</summary>
    /// <param name="previous">The sample before <paramref name="latest"/>; <paramref name="hasPrevious"/> says whether there is one.</param>
    /// <param name="hasPrevious">False when <paramref name="latest"/> is the only sample.</param>
    /// <param name="latest">The latest sample.</param>
    /// <param name="atTimeNs">The time asked about (for <see cref="SampleAgeNs"/>).</param>
    /// <returns>The state.</returns>
    public static VmResourceState FromSamples(in VmResourceSample previous, bool hasPrevious, in VmResourceSample latest, long atTimeNs)
    {
        VmResourceFields valid = latest.Valid & VmResourceFields.Memory;
        double cpu = 0, read = 0, write = 0;
        long interval = 0;
        if (hasPrevious && latest.TimeNs > previous.TimeNs)
        {
            interval = latest.TimeNs - previous.TimeNs;
            double seconds = interval / 1e9;
            VmResourceFields both = latest.Valid & previous.Valid;
            if ((both & VmResourceFields.Cpu) != 0 && latest.CpuTimeNs >= previous.CpuTimeNs)
            {
                cpu = (latest.CpuTimeNs - previous.CpuTimeNs) / (double)interval;
                valid |= VmResourceFields.Cpu;
            }

            if ((both & VmResourceFields.DiskRead) != 0 && latest.DiskReadBytes >= previous.DiskReadBytes)
            {
                read = (latest.DiskReadBytes - previous.DiskReadBytes) / seconds;
                valid |= VmResourceFields.DiskRead;
            }

            if ((both & VmResourceFields.DiskWrite) != 0 && latest.DiskWriteBytes >= previous.DiskWriteBytes)
            {
                write = (latest.DiskWriteBytes - previous.DiskWriteBytes) / seconds;
                valid |= VmResourceFields.DiskWrite;
            }
        }

        return new VmResourceState(valid, cpu, latest.MemoryBytes, read, write, latest.TimeNs, interval, atTimeNs - latest.TimeNs);
    }

    /// <inheritdoc/>
    public override string ToString()
        => $"valid={Valid} cpu={CpuCores:F3} cores mem={MemoryBytes} rd={DiskReadBytesPerSecond:F0} B/s wr={DiskWriteBytesPerSecond:F0} B/s age={SampleAgeNs / 1e6:F1} ms";
}
