// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;

namespace FlowEngine.Tests.Infrastructure;

/// <summary>Runs tshark (installed by build/test.sh) and returns its field output, one array of fields per packet.</summary>
internal static class Tshark
{
    public static string Executable => File.Exists("/usr/bin/tshark") ? "/usr/bin/tshark" : "tshark";

    public static List<string[]> Fields(string capture, params string[] fields) => Fields(capture, '|', fields);

    /// <summary>The fields separated by <paramref name="separator"/> ('\t' for a tab, for fields that may hold '|').</summary>
    public static List<string[]> Fields(string capture, char separator, string[] fields)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-n", "-r", capture, "-T", "fields", "-E", separator == '\t' ? "separator=/t" : $"separator={separator}", "-E", "occurrence=a", "-E", "aggregator=," })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (string f in fields)
        {
            psi.ArgumentList.Add("-e");
            psi.ArgumentList.Add(f);
        }

        using Process p = Process.Start(psi) ?? throw new InvalidOperationException("tshark did not start; build/test.sh installs it");
        var stderr = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => stderr.AppendLine(e.Data);
        p.BeginErrorReadLine();
        var rows = new List<string[]>();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null)
        {
            rows.Add(line.Split(separator));
        }

        if (!p.WaitForExit(120_000))
        {
            p.Kill(true);
            throw new TimeoutException($"tshark on {capture} took over 120 s");
        }

        // tshark exits 2 on a file it could read only in part; the rows it printed still stand.
        if (p.ExitCode != 0 && rows.Count == 0)
        {
            throw new InvalidOperationException($"tshark failed on {capture} (exit code {p.ExitCode}): {stderr}");
        }

        return rows;
    }
}
