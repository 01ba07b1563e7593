// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using Microsoft.Win32.SafeHandles;

namespace FlowEngine.Interop.VmState;

/// <summary>
/// One kernel statistics file (cgroupfs, procfs) kept open and read again from offset 0 each time: the kernel
/// regenerates the content on a read at offset 0, so a sample costs one pread and no open, path or allocation.
/// </summary>
internal sealed class StatFile : IDisposable
{
    /// <summary>The largest file read (1 MiB); a statistics file larger than that is an error.</summary>
    public const int MaxBytes = 1 << 20;

    private SafeFileHandle? _handle;

    public StatFile(string path) => Path = path;

    public string Path { get; }

    public bool IsOpen => _handle is not null;

    /// <summary>Opens the file; false (not thrown) when it is missing or cannot be opened.</summary>
    public bool TryOpen()
    {
        if (_handle is not null)
        {
            return true;
        }

        try
        {
            _handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Reads the whole file into <paramref name="buffer"/> (grown when the file fills it).</summary>
    /// <returns>The bytes read, or -1 when the read failed (the file is then closed until the next <see cref="TryOpen"/>).</returns>
    public int Read(ref byte[] buffer)
    {
        if (_handle is null)
        {
            return -1;
        }

        try
        {
            while (true)
            {
                int n = RandomAccess.Read(_handle, buffer, 0);
                if (n < buffer.Length)
                {
                    return n;
                }

                if (buffer.Length >= MaxBytes)
                {
                    return -1;
                }

                buffer = new byte[buffer.Length * 2]; // Rare: a file larger than any seen before.
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            Close();
            return -1;
        }
    }

    public void Close()
    {
        _handle?.Dispose();
        _handle = null;
    }

    public void Dispose() => Close();
}
