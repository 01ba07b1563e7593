// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Interop.Dpdk;

namespace FlowEngine.Interop.Threading;

/// <summary>
/// Runs one worker thread per packet source (per RX queue), each pinned to its own CPU, registered with DPDK and
/// owning its own <see cref="FlowPipeline"/>: shared nothing, no locks. Cancellation stops reading, drains what
/// each queue still holds, and flushes every flow.
/// </summary>
public static class MultiQueueRunner
{
    /// <summary>
    /// Runs the workers until every source ends or <paramref name="cancellationToken"/> is cancelled, then returns
    /// once every worker has drained its source and flushed its pipeline. When a worker fails, the others are
    /// cancelled (and drained and flushed) and the failures are rethrown.
    /// </summary>
    /// <param name="sources">One source per worker; each is read only by its worker. The caller disposes them.</param>
    /// <param name="pipelines">
    /// One pipeline per worker; it reads its source into its own batch, so its <see cref="FlowPipelineOptions.BatchSize"/>
    /// is the burst size of a DPDK source (with the source's own maximum). Its sink is called on the worker's thread.
    /// </param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>One result per worker, in worker order.</returns>
    /// <exception cref="AggregateException">One or more workers failed.</exception>
    public static IReadOnlyList<QueueWorkerResult> Run(
        IReadOnlyList<IPacketSource> sources,
        IReadOnlyList<FlowPipeline> pipelines,
        MultiQueueRunnerOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(pipelines);
        if (sources.Count != pipelines.Count || sources.Count == 0)
        {
            throw new ArgumentException($"one pipeline per source is needed: {sources.Count} sources, {pipelines.Count} pipelines", nameof(pipelines));
        }

        options ??= new MultiQueueRunnerOptions();
        options.Validate();
        IReadOnlyList<int> cpus = options.Cpus ?? CpuAffinity.GetCurrentThread();
        bool register = options.RegisterWithDpdk && DpdkEal.Current is not null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var results = new QueueWorkerResult?[sources.Count];
        var failures = new Exception?[sources.Count];
        var threads = new Thread[sources.Count];
        for (int i = 0; i < threads.Length; i++)
        {
            int worker = i;
            int cpu = cpus.Count == 0 ? -1 : cpus[i % cpus.Count];
            threads[i] = new Thread(() =>
            {
                try
                {
                    results[worker] = RunWorker(worker, cpu, register, sources[worker], pipelines[worker], options, stop.Token);
                }
                catch (Exception e)
                {
                    failures[worker] = e;
                    stop.Cancel();
                }
            })
            {
                IsBackground = true,
                Name = $"fe-rx-{worker}",
            };
        }

        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }

        Exception[] failed = failures.Where(e => e is not null).Select(e => e!).ToArray();
        if (failed.Length != 0)
        {
            throw new AggregateException($"{failed.Length} of {threads.Length} queue workers failed: {failed[0].Message}", failed);
        }

        return results.Select(r => r!).ToArray();
    }

    private static QueueWorkerResult RunWorker(int worker, int cpu, bool register, IPacketSource source, FlowPipeline pipeline, MultiQueueRunnerOptions options, CancellationToken stop)
    {
        int lcore = -1;
        bool ended = false;
        try
        {
            if (cpu >= 0)
            {
                CpuAffinity.PinCurrentThread(cpu);
            }

            if (register)
            {
                lcore = DpdkEal.RegisterCurrentThread();
            }

            // The pipeline reads into its own batch: its FlowPipelineOptions.BatchSize is the burst size.
            while (!stop.IsCancellationRequested)
            {
                if (!pipeline.TryProcessNext(source, out int frames))
                {
                    ended = true;
                    break;
                }

                if (frames == 0)
                {
                    // Poll mode; yielding keeps an idle queue from starving the other threads of a small host.
                    Thread.Yield();
                }
            }

            // Drain: what the queue already holds belongs to this run.
            for (int i = 0; !ended && i < options.MaxDrainBatches; i++)
            {
                if (!pipeline.TryProcessNext(source, out int frames))
                {
                    ended = true;
                }
                else if (frames == 0)
                {
                    break;
                }
            }
        }
        finally
        {
            pipeline.Flush();
            if (lcore >= 0)
            {
                DpdkEal.UnregisterCurrentThread();
            }
        }

        return new QueueWorkerResult(worker, cpu, lcore, ended, pipeline.Statistics);
    }
}
