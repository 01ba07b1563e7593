// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;

namespace FlowEngine.Detection;

/// <summary>
/// Classifies every emitted record with its context, as an <see cref="IFlowSink"/> beside the pipeline's VM identity
/// and application metadata extensions: each classified flow's alert (count 1) goes to <c>alerts</c>.
/// </summary>
/// <param name="classifier">The classifier.</param>
/// <param name="vms">The pipeline's VM identity table.</param>
/// <param name="alerts">Where per-flow alerts go (e.g. an <see cref="AlertGrouper"/>).</param>
/// <param name="metadata">The pipeline's application metadata table, or null when metadata is off.</param>
/// <param name="profiles">Profiles to learn and take novelty from, or null.</param>
/// <param name="model">What the model said of each flow, or null without a model.</param>
public sealed class FlowClassifierSink(FlowClassifier classifier, VmIdentityTable vms, IAlertSink alerts, AppMetadataTable? metadata = null, ProfileStore? profiles = null, IModelSurpriseSource? model = null) : IFlowSink
{
    private readonly FlowClassifier _classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
    private readonly VmIdentityTable _vms = vms ?? throw new ArgumentNullException(nameof(vms));
    private readonly IAlertSink _alerts = alerts ?? throw new ArgumentNullException(nameof(alerts));

    /// <inheritdoc/>
    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        for (int i = 0; i < records.Length; i++)
        {
            VmIdentity v = _vms.ForRecord(i);
            AppMetadata m = metadata is null ? default : metadata.ForRecord(i);
            ProfileUpdate update = profiles is null ? default : profiles.Observe(in records[i], in v, m);
            ModelSurprise originator = default, responder = default;
            model?.Lookup(in records[i], out originator, out responder);
            if (_classifier.Classify(new FlowObservation(in records[i], in v, m, in update, originator, responder), out Alert alert))
            {
                _alerts.OnAlert(in alert);
            }
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
