// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;

namespace FlowEngine.Detection;

/// <summary>The model heads that found a flow surprising (their negative log-likelihood above their usual level).</summary>
[Flags]
public enum SurprisedHeads : byte
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>The destination's relation to the VM (known peer, new internal, new external, ...).</summary>
    Relation = 1,

    /// <summary>The peer itself among the VM's known peers.</summary>
    Peer = 2,

    /// <summary>The destination port class.</summary>
    Port = 4,

    /// <summary>The application.</summary>
    App = 8,

    /// <summary>The byte volume.</summary>
    Bytes = 16,

    /// <summary>The time since the VM's previous flow.</summary>
    Gap = 32,
}

/// <summary>What the predictive model said about one VM's end of a flow (all default when no model ran).</summary>
/// <param name="Scored">Whether the model scored it (false while a VM's threshold calibrates, or without a model).</param>
/// <param name="Alert">Whether its score passed the VM's adaptive threshold.</param>
/// <param name="Score">The deviation score (negative log-likelihood).</param>
/// <param name="Threshold">The VM's threshold at that flow.</param>
/// <param name="Heads">Which heads were surprised.</param>
/// <param name="Top">The head with the largest share of the score.</param>
public readonly record struct ModelSurprise(bool Scored, bool Alert, float Score, float Threshold, SurprisedHeads Heads, SurprisedHeads Top = SurprisedHeads.None)
{
    /// <summary>Whether the model expected this flow's destination, port and application (scored, none of them surprised).</summary>
    public bool Expected => Scored && !Alert && (Heads & (SurprisedHeads.Relation | SurprisedHeads.Peer | SurprisedHeads.Port | SurprisedHeads.App)) == 0;

    /// <summary>Whether the model found the destination surprising.</summary>
    public bool DestinationSurprised => Scored && (Heads & (SurprisedHeads.Relation | SurprisedHeads.Peer)) != 0;
}

/// <summary>One emitted flow with everything the classifier combines: record, VMs, metadata, profile novelty, model.</summary>
public readonly ref struct FlowObservation
{
    private readonly ref readonly FlowRecord _record;

    /// <summary>Creates an observation.</summary>
    /// <param name="record">The record.</param>
    /// <param name="vms">Its VMs.</param>
    /// <param name="metadata">Its application metadata (default when off).</param>
    /// <param name="profile">What was new to the VMs' profiles (default without profiles).</param>
    /// <param name="originator">The model's view from the originator VM.</param>
    /// <param name="responder">The model's view from the responder VM.</param>
    public FlowObservation(in FlowRecord record, in VmIdentity vms, AppMetadata metadata, in ProfileUpdate profile, ModelSurprise originator = default, ModelSurprise responder = default)
    {
        _record = ref record;
        Vms = vms;
        Metadata = metadata;
        Profile = profile;
        Originator = originator;
        Responder = responder;
    }

    /// <summary>The record.</summary>
    public ref readonly FlowRecord Record => ref _record;

    /// <summary>Its VMs.</summary>
    public VmIdentity Vms { get; }

    /// <summary>Its application metadata.</summary>
    public AppMetadata Metadata { get; }

    /// <summary>What was new to the profiles.</summary>
    public ProfileUpdate Profile { get; }

    /// <summary>The model's view from the originator VM.</summary>
    public ModelSurprise Originator { get; }

    /// <summary>The model's view from the responder VM.</summary>
    public ModelSurprise Responder { get; }

    /// <summary>Whether profiles ran (so that <see cref="ProfileUpdate.NewPeer"/> means something).</summary>
    public bool HasProfile => Profile.Source is not null;
}

/// <summary>The model's view of a flow for the classifier, when a model scored it (replay or inline).</summary>
public interface IModelSurpriseSource
{
    /// <summary>What the model said about both VM ends of a flow.</summary>
    /// <param name="record">The record.</param>
    /// <param name="originator">From the originator VM; default when not scored.</param>
    /// <param name="responder">From the responder VM; default when not scored.</param>
    void Lookup(in FlowRecord record, out ModelSurprise originator, out ModelSurprise responder);
}
