// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using FlowEngine.Benchmarks.Commands;

namespace FlowEngine.Benchmarks;

/// <summary>
/// Entry point. <c>generate</c>, <c>decode-throughput</c>, <c>pipeline-ab</c>, <c>metadata-ab</c>, <c>file-throughput</c>, <c>flows-output</c>, <c>detect</c> and
/// <c>memory-probe</c> are stand-alone modes; anything else goes to
/// BenchmarkDotNet (<c>--filter</c>, <c>--job</c>, <c>--list flat</c>...).
/// </summary>
public static class Program
{
    /// <summary>Runs a mode or the benchmark switcher.</summary>
    /// <param name="args">Command line.</param>
    /// <returns>Exit code.</returns>
    public static int Main(string[] args)
    {
        if (args.Length > 0)
        {
            switch (args[0])
            {
                case "generate":
                    return GenerateCommand.Run(args[1..]);
                case "decode-throughput":
                    return DecodeThroughputCommand.Run(args[1..]);
                case "detect":
                    return DetectCommand.Run(args[1..]);
                case "memory-probe":
                    return MemoryProbeCommand.Run(args[1..]);
                case "file-throughput":
                    return FileThroughputCommand.Run(args[1..]);
                case "pipeline-ab":
                    return PipelineAbCommand.Run(args[1..]);
                case "metadata-ab":
                    return MetadataAbCommand.Run(args[1..]);
                case "archive-size":
                    return ArchiveSizeCommand.Run(args[1..]);
                case "flows-output":
                    return FlowsOutputCommand.Run(args[1..]);
                case "eval-model":
                    return EvalModelCommand.Run(args[1..]);
            }
        }

#if DEBUG
        IConfig config = new DebugInProcessConfig();
#else
        // Workstation non-concurrent GC, so MemoryDiagnoser counts allocations deterministically. BDN takes a job
        // marked AsDefault instead of the one named by --job (it still applies --iterationCount and the like), so
        // the --job name is mapped here.
        IConfig config = DefaultConfig.Instance
            .AddJob(BaseJob(args).WithGcServer(false).WithGcConcurrent(false).AsDefault());
#endif
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    private static Job BaseJob(string[] args)
    {
        int i = Array.FindIndex(args, a => a is "--job" or "-j");
        string name = i >= 0 && i + 1 < args.Length ? args[i + 1].ToLowerInvariant() : "default";
        return name switch
        {
            "dry" => Job.Dry,
            "short" => Job.ShortRun,
            "medium" => Job.MediumRun,
            "long" => Job.LongRun,
            "verylong" => Job.VeryLongRun,
            "default" => Job.Default,
            _ => throw new ArgumentException($"Unknown --job '{name}': use dry, short, medium, long, verylong or default."),
        };
    }
}
