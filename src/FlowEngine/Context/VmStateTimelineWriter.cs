// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>
/// Writes VM resource samples as a timeline file (docs/vm-state.md): CSV with the header
/// <c>time_ns,vm,cpu_ns,memory_bytes,disk_read_bytes,disk_write_bytes</c>, one sample per line, an empty field where the
/// sample has no value. Read it back with <see cref="VmStateTimeline"/>. One thread at a time.
/// </summary>
public sealed class VmStateTimelineWriter : IDisposable
{
    /// <summary>The header line.</summary>
    public const string Header = "time_ns,vm,cpu_ns,memory_bytes,disk_read_bytes,disk_write_bytes";

    private readonly TextWriter _writer;
    private readonly bool _ownsWriter;
    private readonly char[] _line = new char[256];
    private bool _disposed;

    /// <summary>A writer that creates (or replaces) <paramref name="path"/> and writes the header.</summary>
    /// <param name="path">The file.</param>
    public VmStateTimelineWriter(string path)
        : this(new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false)), ownsWriter: true)
    {
    }

    /// <summary>A writer over <paramref name="writer"/>; writes the header at once.</summary>
    /// <param name="writer">Where lines go.</param>
    /// <param name="ownsWriter">Whether <see cref="Dispose"/> disposes it.</param>
    public VmStateTimelineWriter(TextWriter writer, bool ownsWriter = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _ownsWriter = ownsWriter;
        _writer.Write(Header);
        _writer.Write('\n');
    }

    /// <summary>Lines written after the header.</summary>
    public long Samples { get; private set; }

    /// <summary>Writes one sample of <paramref name="vmName"/>; formats into a reused buffer, so it allocates nothing.</summary>
    /// <param name="vmName">The VM's name: no comma, quote or line break (CSV without quoting).</param>
    /// <param name="sample">The sample.</param>
    public void Write(string vmName, in VmResourceSample sample)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(vmName);
        if (vmName.AsSpan().IndexOfAny(",\"\r\n") >= 0 || vmName.Length > 128)
        {
            throw new ArgumentException($"a VM name in a timeline has at most 128 characters and no comma, quote or line break: '{vmName}'", nameof(vmName));
        }

        Span<char> line = _line;
        int n = 0;
        Append(line, ref n, sample.TimeNs, valid: true);
        line[n++] = ',';
        vmName.AsSpan().CopyTo(line[n..]);
        n += vmName.Length;
        line[n++] = ',';
        Append(line, ref n, sample.CpuTimeNs, sample.Has(VmResourceFields.Cpu));
        line[n++] = ',';
        Append(line, ref n, sample.MemoryBytes, sample.Has(VmResourceFields.Memory));
        line[n++] = ',';
        Append(line, ref n, sample.DiskReadBytes, sample.Has(VmResourceFields.DiskRead));
        line[n++] = ',';
        Append(line, ref n, sample.DiskWriteBytes, sample.Has(VmResourceFields.DiskWrite));
        line[n++] = '\n';
        _writer.Write(line[..n]);
        Samples++;
    }

    /// <summary>Flushes what is written to the underlying writer.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _writer.Flush();
    }

    /// <summary>Flushes, and disposes the underlying writer when it owns it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _writer.Flush();
        if (_ownsWriter)
        {
            _writer.Dispose();
        }
    }

    private static void Append(Span<char> line, ref int n, long value, bool valid)
    {
        if (!valid)
        {
            return;
        }

        value.TryFormat(line[n..], out int written, provider: System.Globalization.CultureInfo.InvariantCulture);
        n += written;
    }
}
