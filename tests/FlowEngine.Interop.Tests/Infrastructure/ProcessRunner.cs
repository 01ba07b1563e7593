// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>Runs tools with a time limit; a failure is a test failure that shows the tool's output.</summary>
internal static class ProcessRunner
{
    public static string Run(string file, IEnumerable<string> arguments, TimeSpan timeout, bool check = true)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        var output = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        Assert.True(process.Start(), $"cannot start {file}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}");
        }

        process.WaitForExit();
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        if (check)
        {
            Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', info.ArgumentList)} exited with {process.ExitCode}: {text}");
        }

        return text;
    }

    private static void Append(System.Text.StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }
}
