// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine;

/// <summary>Settings of a <see cref="FlowPipeline"/>.</summary>
public sealed class FlowPipelineOptions
{
    /// <summary>Decoder settings (tunnel ports, nesting limits).</summary>
    public DecoderOptions Decoder { get; set; } = new();

    /// <summary>Flow table settings (size, timeouts).</summary>
    public FlowTableOptions Flows { get; set; } = new();

    /// <summary>Frames per batch read from the source. Default: 256.</summary>
    public int BatchSize { get; set; } = 256;
}
