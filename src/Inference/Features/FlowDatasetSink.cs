// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;

namespace FlowEngine.Inference.Features;

/// <summary>
/// A sink that turns every emitted record into feature rows of a <see cref="FlowDataset"/>, with the record's VMs, its
/// application metadata (when collected), its novelty to the VMs' profiles (when kept; the profiles learn from it
/// first) and the VMs' resource state (when a source is given). The tables must be the pipeline's extensions' tables.
/// </summary>
/// <example>
/// <code>
/// var sink = new FlowDatasetSink(data, vms, metadata, profiles, states: null);
/// using var pipeline = new FlowPipeline&lt;FlowExtensions&lt;AppMetadataExtension, VmIdentityExtension&gt;&gt;(sink, options, new(new(metadata), new(vms)));
/// </code>
/// </example>
/// <param name="data">Where the rows go.</param>
/// <param name="vms">The pipeline's VM identity table.</param>
/// <param name="metadata">The pipeline's application metadata table, or null when metadata is off.</param>
/// <param name="profiles">Behavioural profiles to learn and to take novelty from, or null.</param>
/// <param name="states">The VMs' resource state, or null.</param>
public sealed class FlowDatasetSink(FlowDataset data, VmIdentityTable vms, AppMetadataTable? metadata = null, ProfileStore? profiles = null, IVmStateSource? states = null) : IFlowSink
{
    /// <inheritdoc/>
    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        for (int i = 0; i < records.Length; i++)
        {
            VmIdentity v = vms.ForRecord(i);
            AppMetadata m = metadata is null ? default : metadata.ForRecord(i);
            ProfileUpdate update = profiles is null ? default : profiles.Observe(in records[i], in v, m);
            var context = new FlowContext(v, m, update, metadata is not null, profiles is not null, states);
            data.Add(in records[i], in context);
        }
    }

    /// <inheritdoc/>
    public void Flush()
    {
    }

    /// <inheritdoc/>
    public void Complete()
    {
    }
}
