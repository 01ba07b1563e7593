// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Inference.Features;

namespace FlowEngine.Inference.Detection;

/// <summary>
/// The model's replay scores as the classifier's <see cref="IModelSurpriseSource"/>: each flow's score from its
/// originator and responder VM, found by the flow's identity. A categorical head is surprised when it gave the
/// observed class less than <see cref="MaxProbability"/>; a Gaussian head when its part of the score passes
/// <see cref="MinGaussianNll"/> nats (about three standard deviations).
/// </summary>
public sealed class ReplaySurprises : IModelSurpriseSource
{
    /// <summary>A categorical head that gave the observed class less than this was surprised.</summary>
    public const float MaxProbability = 0.02f;

    /// <summary>A Gaussian head whose part of the score passes this was surprised.</summary>
    public const float MinGaussianNll = 5f;

    private readonly Dictionary<FlowIdentity, (ModelSurprise Originator, ModelSurprise Responder)> _byFlow = [];

    /// <summary>Indexes the scores of a replay.</summary>
    /// <param name="scores">From <see cref="FlowReplayScorer.Score"/>.</param>
    public ReplaySurprises(IEnumerable<FlowScore> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        foreach (FlowScore s in scores)
        {
            FlowIdentity id = FlowIdentity.Of(s.Record);
            _byFlow.TryGetValue(id, out var both);
            ModelSurprise m = Of(s);
            _byFlow[id] = s.Perspective == FlowPerspective.Originator ? (m, both.Responder) : (both.Originator, m);
        }
    }

    /// <summary>Flows indexed.</summary>
    public int Count => _byFlow.Count;

    /// <summary>The classifier's view of one score.</summary>
    /// <param name="score">The score.</param>
    /// <returns>Which heads were surprised, and the score against the VM's threshold.</returns>
    public static ModelSurprise Of(FlowScore score)
    {
        ArgumentNullException.ThrowIfNull(score);
        if (!score.Scored)
        {
            return default;
        }

        SurprisedHeads heads = SurprisedHeads.None, top = SurprisedHeads.None;
        float topNll = float.NegativeInfinity;
        foreach (HeadEvidence e in score.Evidence)
        {
            SurprisedHeads head = e.Head switch
            {
                "relation" => SurprisedHeads.Relation,
                "peer" => SurprisedHeads.Peer,
                "port" => SurprisedHeads.Port,
                "app" => SurprisedHeads.App,
                "log_bytes" => SurprisedHeads.Bytes,
                "log_gap" => SurprisedHeads.Gap,
                _ => SurprisedHeads.None,
            };
            bool surprised = e.Rank > 0 ? e.Probability < MaxProbability : e.Nll > MinGaussianNll;
            heads |= surprised ? head : SurprisedHeads.None;
            if (e.Nll > topNll)
            {
                topNll = e.Nll;
                top = head;
            }
        }

        return new ModelSurprise(true, score.Alert, score.Score, (float)score.Threshold, heads, top);
    }

    /// <inheritdoc/>
    public void Lookup(in FlowRecord record, out ModelSurprise originator, out ModelSurprise responder)
    {
        if (_byFlow.TryGetValue(FlowIdentity.Of(in record), out var both))
        {
            (originator, responder) = both;
        }
        else
        {
            originator = default;
            responder = default;
        }
    }
}
