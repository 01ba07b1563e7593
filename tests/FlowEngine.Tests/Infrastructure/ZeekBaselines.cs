// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text.RegularExpressions;
using FlowEngine.Tests.Capture;

namespace FlowEngine.Tests.Infrastructure;

/// <summary>The Zeek traces of the corpus and their expected logs, as SOURCES.md pairs them.</summary>
internal static partial class ZeekBaselines
{
    /// <summary>Every (trace, baseline) pair whose baseline path satisfies <paramref name="wanted"/>.</summary>
    public static TheoryData<string, string> Pairs(Func<string, bool> wanted)
    {
        var data = new TheoryData<string, string>();
        string root = CaptureTestFiles.CorporaDirectory();
        string? capture = null;
        foreach (string line in File.ReadLines(Path.Combine(root, "SOURCES.md")))
        {
            Match header = CaptureHeader().Match(line);
            if (header.Success)
            {
                capture = header.Groups[1].Value;
                continue;
            }

            if (capture is not null && capture.StartsWith("zeek/", StringComparison.Ordinal) && line.StartsWith("* expected:", StringComparison.Ordinal))
            {
                foreach (Match m in Backticked().Matches(line))
                {
                    if (wanted(m.Groups[1].Value))
                    {
                        data.Add(capture, m.Groups[1].Value);
                    }
                }
            }
        }

        return data;
    }

    [GeneratedRegex(@"^#### `([^`]+)`")]
    private static partial Regex CaptureHeader();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex Backticked();
}
