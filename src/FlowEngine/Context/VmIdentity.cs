// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>
/// The VMs at the two ends of a flow (originator and responder), where known, and whether an end lies outside the
/// virtual network (behind its gateway). From <see cref="VmIdentityTable.ForFlow"/> or <see cref="VmIdentityTable.ForRecord"/>.
/// </summary>
public readonly struct VmIdentity
{
    internal VmIdentity(VmInfo? source, VmInfo? destination, bool sourceOutside, bool destinationOutside, float sourceGap, float destinationGap)
    {
        SourceSecondsSincePrevious = sourceGap;
        DestinationSecondsSincePrevious = destinationGap;
        Source = source;
        Destination = destination;
        SourceOutside = sourceOutside;
        DestinationOutside = destinationOutside;
    }

    /// <summary>
    /// The identity of a flow's two ends as recorded elsewhere (an archive, another sensor), to replay it through
    /// what takes a <see cref="VmIdentity"/> (profiles, features, the classifier).
    /// </summary>
    /// <param name="source">The originator's VM, or null.</param>
    /// <param name="destination">The responder's VM, or null.</param>
    /// <param name="sourceOutside">Whether the originator is outside (beyond a gateway).</param>
    /// <param name="destinationOutside">Whether the responder is outside.</param>
    /// <param name="sourceGapSeconds">Seconds since the originator VM's previous flow (NaN when unknown).</param>
    /// <param name="destinationGapSeconds">Seconds since the responder VM's previous flow (NaN when unknown).</param>
    /// <returns>The identity.</returns>
    public static VmIdentity Create(VmInfo? source, VmInfo? destination, bool sourceOutside, bool destinationOutside, float sourceGapSeconds, float destinationGapSeconds) =>
        new(source, destination, sourceOutside, destinationOutside, sourceGapSeconds, destinationGapSeconds);

    /// <summary>The originator's VM; null when unknown or outside.</summary>
    public VmInfo? Source { get; }

    /// <summary>The responder's VM; null when unknown or outside.</summary>
    public VmInfo? Destination { get; }

    /// <summary>The originator is outside the virtual network: its packets came through the gateway.</summary>
    public bool SourceOutside { get; }

    /// <summary>The responder is outside the virtual network: the packets to it went to the gateway.</summary>
    public bool DestinationOutside { get; }

    /// <summary>
    /// Seconds from the originator VM's previous flow start (as originator or responder) to this flow's start, by
    /// packet time; NaN for its first flow, or when the end is not a known VM when the flow started (a learned
    /// receiver is known only once it answered).
    /// </summary>
    public float SourceSecondsSincePrevious { get; }

    /// <summary>As <see cref="SourceSecondsSincePrevious"/> for the responder VM.</summary>
    public float DestinationSecondsSincePrevious { get; }

    /// <summary>The tenant of the flow: the originator's, else the responder's; null when neither is known.</summary>
    public string? Tenant => Source?.Tenant ?? Destination?.Tenant;
}
