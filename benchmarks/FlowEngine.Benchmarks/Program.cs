// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using FlowEngine.Benchmarks.Commands;

namespace FlowEngine.Benchmarks;

/// <summary>
/// Entry point. <c>generate</c> and <c>decode-throughput</c> are stand-alone modes; anything else goes to
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
            }
        }

#if DEBUG
        IConfig config = new DebugInProcessConfig();
#else
        // Workstation non-concurrent GC, so MemoryDiagnoser counts allocations deterministically. AsDefault lets
        // command-line job options (--job short) apply on top of this job instead of adding a second one.
        IConfig config = DefaultConfig.Instance
            .AddJob(Job.Default.WithGcServer(false).WithGcConcurrent(false).AsDefault());
#endif
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
