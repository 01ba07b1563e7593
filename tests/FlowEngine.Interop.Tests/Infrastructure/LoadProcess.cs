// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Diagnostics;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>What a <see cref="LoadProcess"/> does once told to go.</summary>
internal enum LoadKind
{
    /// <summary>Waits on stdin, using nothing.</summary>
    Idle,

    /// <summary>
    /// A busy loop in a session of its own at nice -20 (and its scheduler autogroup at -20), so that it gets a whole
    /// core on a machine other work keeps busy: with autogroups, nice alone only ranks processes within one session.
    /// </summary>
    Cpu,

    /// <summary>Allocates <c>bytes</c> and touches every page, says <c>done</c>, waits.</summary>
    Memory,

    /// <summary>Writes <c>bytes</c> to a file with O_DIRECT and fsync, says <c>written</c>; on the next line reads it back with O_DIRECT, says <c>read</c>.</summary>
    Disk,
}

/// <summary>
/// A python3 child process that waits for "go" on stdin before it loads CPU, memory or disk, so the test can move it
/// into a cgroup first. Bounded in time: every wait has a timeout, and Dispose kills it and reaps it.
/// </summary>
internal sealed class LoadProcess : IDisposable
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import os, sys, mmap
        mode = os.environ['FE_MODE']; n = int(os.environ.get('FE_BYTES', '0'))
        print('ready', flush=True)
        sys.stdin.readline()
        if mode == 'Cpu':
            # Scheduler autogroups weigh sessions, not processes: a session of its own at nice -20 gets a whole core.
            os.setsid()
            try:
                with open('/proc/self/autogroup', 'w') as f:
                    f.write('-20')
            except OSError:
                pass
            os.setpriority(os.PRIO_PROCESS, 0, -20)
            while True:
                pass
        elif mode == 'Memory':
            data = b'\x01' * n
            print('done', flush=True)
            sys.stdin.readline()
        elif mode == 'Disk':
            path = os.environ['FE_PATH']; chunk = 1 << 20
            buf = mmap.mmap(-1, chunk); buf.write(b'\x5a' * chunk)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)
            for _ in range(n // chunk):
                os.write(fd, buf)
            os.fsync(fd); os.close(fd)
            print('written', flush=True)
            sys.stdin.readline()
            fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
            while os.readv(fd, [buf]) > 0:
                pass
            os.close(fd)
            print('read', flush=True)
            sys.stdin.readline()
        else:
            sys.stdin.readline()
        """;

    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];

    private LoadProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Add(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        Expect("ready");
    }

    public int Pid => _process.Id;

    /// <summary>
    /// Starts the process. With <paramref name="qemuGuestName"/>, its argv[0] is <c>qemu-system-x86_64</c> and its
    /// command line ends with <c>-name guest=NAME,debug-threads=on</c>, as libvirt starts QEMU.
    /// </summary>
    public static LoadProcess Start(LoadKind kind, long bytes = 0, string? path = null, string? qemuGuestName = null)
    {
        Assert.True(File.Exists(Python), $"{Python} is needed (apt-get install python3)");
        ProcessStartInfo info;
        if (qemuGuestName is null)
        {
            info = new ProcessStartInfo(Python) { ArgumentList = { "-u", "-c", Script } };
        }
        else
        {
            info = new ProcessStartInfo("/bin/bash")
            {
                ArgumentList = { "-c", $"exec -a qemu-system-x86_64 {Python} -u -c \"$1\" -name \"guest=$2,debug-threads=on\"", "bash", Script, qemuGuestName },
            };
        }

        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
        info.Environment["FE_MODE"] = kind.ToString();
        info.Environment["FE_BYTES"] = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["FE_PATH"] = path ?? string.Empty;
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start python3");
        try
        {
            return new LoadProcess(process);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
            throw;
        }
    }

    /// <summary>Sends one line (the signal to go on).</summary>
    public void Go()
    {
        _process.StandardInput.WriteLine("go");
        _process.StandardInput.Flush();
    }

    /// <summary>Waits (at most 60 s) for the process to print <paramref name="line"/>.</summary>
    public void Expect(string line)
    {
        if (!_lines.TryTake(out string? got, TimeSpan.FromSeconds(60)))
        {
            Assert.Fail($"the load process (pid {_process.Id}) did not say '{line}' within 60 s (exited: {_process.HasExited})");
        }

        Assert.Equal(line, got);
    }

    /// <summary>CPU time of the process as the kernel accounts it (utime + stime of /proc/PID/stat), nanoseconds.</summary>
    public long KernelCpuNs()
    {
        _process.Refresh();
        return _process.TotalProcessorTime.Ticks * 100;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        _lines.Dispose();
    }
}
