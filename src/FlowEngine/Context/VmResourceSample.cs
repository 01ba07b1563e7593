// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Context;

/// <summary>The fields of a <see cref="VmResourceSample"/> (or <see cref="VmResourceState"/>) that hold a value.</summary>
[Flags]
public enum VmResourceFields : byte
{
    /// <summary>No field is known.</summary>
    None = 0,

    /// <summary>Cumulative CPU time (sample) or CPU share (state).</summary>
    Cpu = 1,

    /// <summary>Memory in use.</summary>
    Memory = 2,

    /// <summary>Cumulative bytes read from disk (sample) or the read rate (state).</summary>
    DiskRead = 4,

    /// <summary>Cumulative bytes written to disk (sample) or the write rate (state).</summary>
    DiskWrite = 8,

    /// <summary>Every field.</summary>
    All = Cpu | Memory | DiskRead | DiskWrite,
}

/// <summary>
/// One reading of a VM's resource counters, as a provider reads them: cumulative CPU time, memory in use, cumulative
/// disk bytes read and written, at a time in UTC nanoseconds. <see cref="Valid"/> says which fields the provider has;
/// the others are 0. Blittable (48 bytes), so a <see cref="VmStateStore"/> copies it without references.
/// </summary>
/// <remarks>
/// <code>
///  0       8           16             24               32                40     41       48
///  +-------+-----------+--------------+----------------+-----------------+------+--------+
///  |TimeNs | CpuTimeNs | MemoryBytes  | DiskReadBytes  | DiskWriteBytes  |Valid | (pad)  |
///  +-------+-----------+--------------+----------------+-----------------+------+--------+
/// </code>
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public readonly struct VmResourceSample : IEquatable<VmResourceSample>
{
    /// <summary>Bytes of the struct.</summary>
    public const int SizeBytes = 48;

    /// <summary>Creates a sample.</summary>
    /// <param name="timeNs">When it was read, UTC nanoseconds since the Unix epoch.</param>
    /// <param name="valid">The fields that hold a value; the others are stored as 0.</param>
    /// <param name="cpuTimeNs">Cumulative CPU time (user and system), nanoseconds.</param>
    /// <param name="memoryBytes">Memory in use, bytes.</param>
    /// <param name="diskReadBytes">Cumulative bytes read from disk.</param>
    /// <param name="diskWriteBytes">Cumulative bytes written to disk.</param>
    public VmResourceSample(long timeNs, VmResourceFields valid, long cpuTimeNs, long memoryBytes, long diskReadBytes, long diskWriteBytes)
    {
        TimeNs = timeNs;
        Valid = valid & VmResourceFields.All;
        CpuTimeNs = (Valid & VmResourceFields.Cpu) != 0 ? cpuTimeNs : 0;
        MemoryBytes = (Valid & VmResourceFields.Memory) != 0 ? memoryBytes : 0;
        DiskReadBytes = (Valid & VmResourceFields.DiskRead) != 0 ? diskReadBytes : 0;
        DiskWriteBytes = (Valid & VmResourceFields.DiskWrite) != 0 ? diskWriteBytes : 0;
        _padding0 = 0;
        _padding1 = 0;
        _padding2 = 0;
    }

    /// <summary>When the sample was read, UTC nanoseconds since the Unix epoch.</summary>
    public long TimeNs { get; }

    /// <summary>Cumulative CPU time (user and system) of the VM, nanoseconds; 0 unless <see cref="VmResourceFields.Cpu"/> is valid.</summary>
    public long CpuTimeNs { get; }

    /// <summary>Memory in use, bytes; 0 unless <see cref="VmResourceFields.Memory"/> is valid.</summary>
    public long MemoryBytes { get; }

    /// <summary>Cumulative bytes read from disk; 0 unless <see cref="VmResourceFields.DiskRead"/> is valid.</summary>
    public long DiskReadBytes { get; }

    /// <summary>Cumulative bytes written to disk; 0 unless <see cref="VmResourceFields.DiskWrite"/> is valid.</summary>
    public long DiskWriteBytes { get; }

    /// <summary>The fields that hold a value.</summary>
    public VmResourceFields Valid { get; }

    private readonly byte _padding0;
    private readonly ushort _padding1;
    private readonly uint _padding2;

    /// <summary>Whether every field in <paramref name="fields"/> holds a value.</summary>
    /// <param name="fields">The fields.</param>
    /// <returns>True when all are valid.</returns>
    public bool Has(VmResourceFields fields) => (Valid & fields) == fields;

    /// <inheritdoc/>
    public bool Equals(VmResourceSample other)
        => TimeNs == other.TimeNs && Valid == other.Valid && CpuTimeNs == other.CpuTimeNs && MemoryBytes == other.MemoryBytes
           && DiskReadBytes == other.DiskReadBytes && DiskWriteBytes == other.DiskWriteBytes;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is VmResourceSample s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(TimeNs, Valid, CpuTimeNs, MemoryBytes, DiskReadBytes, DiskWriteBytes);

    /// <summary>Equality of every field.</summary>
    /// <param name="left">One sample.</param>
    /// <param name="right">The other.</param>
    /// <returns>True when equal.</returns>
    public static bool operator ==(VmResourceSample left, VmResourceSample right) => left.Equals(right);

    /// <summary>Inequality of some field.</summary>
    /// <param name="left">One sample.</param>
    /// <param name="right">The other.</param>
    /// <returns>True when different.</returns>
    public static bool operator !=(VmResourceSample left, VmResourceSample right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString()
        => $"t={TimeNs} valid={Valid} cpu_ns={CpuTimeNs} mem={MemoryBytes} rd={DiskReadBytes} wr={DiskWriteBytes}";
}
