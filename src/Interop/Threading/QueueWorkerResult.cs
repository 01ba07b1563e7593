// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Threading;

/// <summary>What one worker of a <see cref="MultiQueueRunner"/> did.</summary>
/// <param name="Worker">Index of the worker (and of its source and pipeline).</param>
/// <param name="Cpu">CPU it was pinned to, or -1.</param>
/// <param name="LcoreId">DPDK lcore id it was registered as, or -1.</param>
/// <param name="SourceEnded">True when the source reported its end (rather than the run being cancelled).</param>
/// <param name="Statistics">The pipeline's counters after the final flush.</param>
public sealed record QueueWorkerResult(int Worker, int Cpu, int LcoreId, bool SourceEnded, PipelineStatistics Statistics);
