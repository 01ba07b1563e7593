// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Tests.Infrastructure;

/// <summary>Locates the repository the tests were built from.</summary>
internal static class Repository
{
    public static string Root()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlowEngine.sln")))
            {
                return dir.FullName;
            }
        }

        Assert.Fail($"FlowEngine.sln not found above {AppContext.BaseDirectory}");
        return string.Empty;
    }
}
