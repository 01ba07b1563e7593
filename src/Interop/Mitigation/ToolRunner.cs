// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Text;
using FlowEngine.Mitigation;

namespace FlowEngine.Interop.Mitigation;

/// <summary>Runs nft or tc (optionally inside a network namespace, through ip netns exec) with a time limit.</summary>
internal sealed class ToolRunner(string tool, string? networkNamespace, TimeSpan timeout)
{
    public string Tool => tool;

    /// <summary>Runs the tool; returns its standard output, or throws with its error output when it fails.</summary>
    public string Run(IReadOnlyList<string> arguments, string? input = null) =>
        TryRun(arguments, input, out string output, out string error) ? output : throw new MitigationHandlerException($"{tool} {string.Join(' ', arguments)}: {error.Trim()}");

    /// <summary>Runs the tool; false (with its error output) when it exits with a failure.</summary>
    public bool TryRun(IReadOnlyList<string> arguments, string? input, out string output, out string error)
    {
        var info = new ProcessStartInfo(networkNamespace is null ? tool : "ip")
        {
            UseShellExecute = false,
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (networkNamespace is not null)
        {
            foreach (string a in (string[])["netns", "exec", networkNamespace, tool])
            {
                info.ArgumentList.Add(a);
            }
        }

        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new MitigationHandlerException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new MitigationHandlerException($"{tool} cannot be run ({e.Message}); is it installed?", e);
        }

        using (process)
        {
            var stderr = new StringBuilder();
            var stdout = new StringBuilder();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (stdout)
                    {
                        stdout.AppendLine(e.Data);
                    }
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (stderr)
                    {
                        stderr.AppendLine(e.Data);
                    }
                }
            };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }

            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new MitigationHandlerException($"{tool} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0.#} s");
            }

            process.WaitForExit();
            lock (stdout)
            {
                output = stdout.ToString();
            }

            lock (stderr)
            {
                error = stderr.ToString();
            }

            if (input is not null && process.ExitCode != 0)
            {
                error = $"{error.Trim()} (input: {input.Trim().Replace('\n', ';')})";
            }

            return process.ExitCode == 0;
        }
    }
}
