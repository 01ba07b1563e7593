// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Tests.Shared;

/// <summary>Locates the shared corpus for every test project (compiled into each as a linked file).</summary>
internal static class Corpora
{
    /// <summary>
    /// The shared corpus: the first <c>shared/corpora</c> found walking up from the test binaries (in CI the
    /// repository's parent holds <c>shared/</c>), or <c>FLOWENGINE_CORPORA</c>.
    /// </summary>
    /// <returns>The directory holding MANIFEST.tsv.</returns>
    public static string Directory()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("FLOWENGINE_CORPORA");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            Assert.True(File.Exists(Path.Combine(fromEnvironment, "MANIFEST.tsv")), $"FLOWENGINE_CORPORA={fromEnvironment} has no MANIFEST.tsv");
            return fromEnvironment;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "corpora");
            if (File.Exists(Path.Combine(candidate, "MANIFEST.tsv")))
            {
                return candidate;
            }
        }

        Assert.Fail($"shared/corpora/MANIFEST.tsv not found in any parent of {AppContext.BaseDirectory}; clone the corpora beside the repository (X/main, X/shared/corpora) or set FLOWENGINE_CORPORA");
        return string.Empty;
    }
}
