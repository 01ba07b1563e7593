// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>The shared corpus, the default capture, temporary files, and classic-pcap copies for net_pcap.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> s_tempDirectory = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "flowengine-interop-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        return dir;
    });

    private static int s_counter;

    public static string TempDirectory => s_tempDirectory.Value;

    public static string NewTempPath(string extension) =>
        Path.Combine(TempDirectory, $"t{Interlocked.Increment(ref s_counter)}{extension}");

    /// <summary>The shared corpus (see <see cref="FlowEngine.Tests.Shared.Corpora"/>).</summary>
    public static string CorporaDirectory() => FlowEngine.Tests.Shared.Corpora.Directory();

    /// <summary>samples/data/default.pcapng of the repository.</summary>
    public static string DefaultCapture()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", "data", "default.pcapng");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"samples/data/default.pcapng not found in any parent of {AppContext.BaseDirectory}");
        return string.Empty;
    }

    /// <summary>
    /// A classic pcap copy with microsecond timestamps (what net_pcap reads: libpcap opens it at microsecond
    /// precision), made with editcap. Both the DPDK run and the file-reader oracle read this copy.
    /// </summary>
    public static string ToMicrosecondPcap(string path)
    {
        string output = NewTempPath(".pcap");
        ProcessRunner.Run("editcap", ["-F", "pcap", path, output], TimeSpan.FromSeconds(30));
        return output;
    }
}
