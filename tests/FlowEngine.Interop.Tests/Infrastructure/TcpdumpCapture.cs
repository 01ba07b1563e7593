// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>
/// tcpdump writing a pcap of one interface (optionally inside a network namespace) while a test runs: the oracle
/// for what crossed the interface. Started and ready (it printed "listening on") when the constructor returns;
/// <see cref="Stop"/> ends it with SIGINT and returns the kernel's own counts.
/// </summary>
internal sealed partial class TcpdumpCapture : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly ManualResetEventSlim _listening = new();
    private bool _stopped;

    public TcpdumpCapture(string interfaceName, string? networkNamespace = null, string? filter = null)
    {
        Path = TestPaths.NewTempPath(".pcap");
        var info = new ProcessStartInfo(networkNamespace is null ? "tcpdump" : "ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (networkNamespace is not null)
        {
            foreach (string a in new[] { "netns", "exec", networkNamespace, "tcpdump" })
            {
                info.ArgumentList.Add(a);
            }
        }

        // -U: each packet reaches the file when captured; -s 0: whole frames; -B: a 64 MiB kernel buffer; --immediate-mode: no batching.
        foreach (string a in new[] { "-i", interfaceName, "-n", "-s", "0", "-B", "65536", "-U", "--immediate-mode", "-w", Path })
        {
            info.ArgumentList.Add(a);
        }

        if (filter is not null)
        {
            info.ArgumentList.Add(filter);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("tcpdump did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }

            if (e.Data.Contains("listening on", StringComparison.Ordinal))
            {
                _listening.Set();
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!_listening.Wait(TimeSpan.FromSeconds(10)))
        {
            Dispose();
            Assert.Fail($"tcpdump on {interfaceName} did not start listening within 10 s: {Output}");
        }
    }

    /// <summary>The pcap written.</summary>
    public string Path { get; }

    /// <summary>What tcpdump printed on stderr.</summary>
    public string Output
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Stops tcpdump (SIGINT, so it writes its counters) and returns frames captured and dropped by the kernel.</summary>
    public (long Captured, long DroppedByKernel) Stop()
    {
        if (!_stopped)
        {
            _stopped = true;
            ProcessRunner.Run("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5), check: false);
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill(entireProcessTree: true);
                Assert.Fail("tcpdump did not exit within 10 s of SIGINT");
            }

            _process.WaitForExit();
        }

        string text = Output;
        Match captured = CapturedPattern().Match(text);
        Match dropped = DroppedPattern().Match(text);
        Assert.True(captured.Success && dropped.Success, $"tcpdump printed no counters: {text}");
        return (long.Parse(captured.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(dropped.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _listening.Dispose();
    }

    [GeneratedRegex(@"(\d+) packets? captured")]
    private static partial Regex CapturedPattern();

    [GeneratedRegex(@"(\d+) packets? dropped by kernel")]
    private static partial Regex DroppedPattern();
}
