// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Packaging;

/// <summary>
/// Packs the three src projects and builds a tiny consumer against the packages from a local folder feed, as a NuGet
/// user would; the consumer's flow count must equal the in-process pipeline's on the bundled capture.
/// </summary>
public class PackageConsumerTests
{
    [Fact]
    public void PackedPackages_BuildAndRunAConsumer()
    {
        string root = Repository.Root();
        string work = Directory.CreateTempSubdirectory("flowengine-pack-").FullName;
        try
        {
            string feed = Path.Combine(work, "feed");
            foreach (string project in new[] { "src/FlowEngine/FlowEngine.csproj", "src/Interop/FlowEngine.Interop.csproj", "src/Inference/FlowEngine.Inference.csproj" })
            {
                Run(root, "dotnet", "pack", Path.Combine(root, project), "-c", "Release", "-o", feed, "-p:ContinuousIntegrationBuild=true");
            }

            string[] packages = Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).ToArray()!;
            Assert.Contains(packages, p => p!.StartsWith("FlowEngine.0.", StringComparison.Ordinal));
            Assert.Contains(packages, p => p!.StartsWith("FlowEngine.Interop.", StringComparison.Ordinal));
            Assert.Contains(packages, p => p!.StartsWith("FlowEngine.Inference.", StringComparison.Ordinal));

            // The Interop package carries the native shim where NuGet looks for it on linux-x64.
            string interop = Directory.GetFiles(feed, "FlowEngine.Interop.*.nupkg").Single();
            using (System.IO.Compression.ZipArchive zip = System.IO.Compression.ZipFile.OpenRead(interop))
            {
                Assert.Contains(zip.Entries, e => e.FullName == "runtimes/linux-x64/native/libflowshim.so");
            }

            string app = Path.Combine(work, "consumer");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "Consumer.csproj"), """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="FlowEngine" Version="0.1.0" />
                    <PackageReference Include="FlowEngine.Interop" Version="0.1.0" />
                  </ItemGroup>
                </Project>
                """);
            // The program is the README's snippet, reading the bundled capture, plus one line that reports a count.
            string readme = File.ReadAllText(Path.Combine(root, "README.md"));
            int start = readme.IndexOf("```csharp\n", StringComparison.Ordinal);
            Assert.True(start >= 0, "README.md has no csharp snippet");
            start += "```csharp\n".Length;
            string snippet = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
            Assert.Contains("\"underlay.pcapng\"", snippet, StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(app, "Program.cs"), snippet.Replace("\"underlay.pcapng\"", "args[0]", StringComparison.Ordinal)
                + "Console.WriteLine($\"COUNT {stats.Flows.RecordsEmitted} {stats.PacketsRead}\");\n");
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            string capturePath = Path.Combine(root, "samples", "data", "default.pcapng");
            string output = Run(app, "dotnet", "run", "-c", "Release", "--", capturePath);

            var records = new List<FlowRecord>();
            PipelineStatistics expected;
            using (CaptureFileReader reader = CaptureFile.Open(capturePath))
            {
                expected = new FlowPipeline(FlowSink.ToList(records)).Run(reader);
            }

            Assert.Equal($"COUNT {records.Count} {expected.PacketsRead}", output.Trim().Split('\n')[^1]);
            Assert.Equal(records.Count + 2, output.Trim().Split('\n').Length);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
            if (Directory.Exists(PackageCache))
            {
                Directory.Delete(PackageCache, recursive: true);
            }
        }
    }

    private static string PackageCache => Path.Combine(Path.GetTempPath(), $"flowengine-pack-cache-{Environment.ProcessId}");

    private static string Run(string directory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // A private package cache, so a consumer never sees a stale FlowEngine package from an earlier run.
        psi.Environment["NUGET_PACKAGES"] = PackageCache;
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(300_000), $"{file} {string.Join(' ', args)} took over 5 minutes");
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {p.ExitCode}:\n{output}");
        return output;
    }
}
