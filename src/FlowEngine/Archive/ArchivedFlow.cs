// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Detection;
using FlowEngine.Flows;

namespace FlowEngine.Archive;

/// <summary>One flow read back from the archive: the record exactly as written, its context, and where it lies.</summary>
public sealed class ArchivedFlow
{
    internal ArchivedFlow(in FlowRecord record)
    {
        Record = record;
    }

    /// <summary>The record, bit for bit as it was appended.</summary>
    public FlowRecord Record { get; }

    /// <summary>The originator's VM name; null when unknown or outside.</summary>
    public string? SourceVm { get; internal init; }

    /// <summary>The responder's VM name; null when unknown or outside.</summary>
    public string? DestinationVm { get; internal init; }

    /// <summary>The tenant; null when unknown.</summary>
    public string? Tenant { get; internal init; }

    /// <summary>The originator is outside the virtual network.</summary>
    public bool SourceOutside { get; internal init; }

    /// <summary>The responder is outside the virtual network.</summary>
    public bool DestinationOutside { get; internal init; }

    /// <summary>Seconds from the originator VM's previous flow start to this one's; null when not known.</summary>
    public float? SourceGapSeconds { get; internal init; }

    /// <summary>As <see cref="SourceGapSeconds"/> for the responder VM.</summary>
    public float? DestinationGapSeconds { get; internal init; }

    /// <summary>The application metadata; null when the flow carried none (no application recognised).</summary>
    public ArchivedAppMetadata? Metadata { get; internal init; }

    /// <summary>The application recognised (<see cref="AppProtocol.Unknown"/> without metadata).</summary>
    public AppProtocol App => Metadata?.App ?? AppProtocol.Unknown;

    /// <summary>The detector's score; null when the flow was not scored.</summary>
    public double? Score { get; internal init; }

    /// <summary>The attack class (<see cref="AttackClass.None"/> when none).</summary>
    public AttackClass AlertClass { get; internal init; }

    /// <summary>True when the flow raised an alert.</summary>
    public bool IsAlert { get; internal init; }

    /// <summary>The segment file the flow is in.</summary>
    public string SegmentPath { get; internal init; } = string.Empty;

    /// <summary>Byte offset of the flow's frame in <see cref="SegmentPath"/>.</summary>
    public long FrameOffset { get; internal init; }

    /// <summary>The flow's index within its frame.</summary>
    public int IndexInFrame { get; internal init; }

    /// <summary>The context as <see cref="FlowContext"/>, to append the flow to another archive unchanged.</summary>
    /// <returns>The context (its metadata view is valid while this object lives).</returns>
    public FlowContext ToContext() => new()
    {
        SourceVm = SourceVm,
        DestinationVm = DestinationVm,
        Tenant = Tenant,
        SourceOutside = SourceOutside,
        DestinationOutside = DestinationOutside,
        SourceGapSeconds = SourceGapSeconds,
        DestinationGapSeconds = DestinationGapSeconds,
        Metadata = Metadata is null ? default : Metadata.View,
        Score = Score,
        AlertClass = AlertClass,
        IsAlert = IsAlert,
    };
}

/// <summary>A flow's application metadata read back from the archive; <see cref="View"/> gives the live-table API.</summary>
public sealed class ArchivedAppMetadata
{
    private AppMetadataBlock _block;
    private readonly bool _hasDetails;

    internal ArchivedAppMetadata(AppProtocol app, bool hasDetails)
    {
        App = app;
        _hasDetails = hasDetails;
        _block.Reset();
    }

    internal ref AppMetadataBlock Block => ref _block;

    /// <summary>The application recognised.</summary>
    public AppProtocol App { get; }

    /// <summary>The metadata as an <see cref="AppMetadata"/> view (numbers, text fields, DNS addresses).</summary>
    public AppMetadata View => new(App, ref _block, _hasDetails);

    /// <summary>One text field; empty when absent.</summary>
    /// <param name="field">The field.</param>
    /// <returns>Its bytes as seen on the wire.</returns>
    public ReadOnlySpan<byte> Get(AppField field) => _hasDetails ? _block.Get(field) : default;
}
