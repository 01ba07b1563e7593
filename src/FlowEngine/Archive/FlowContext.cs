// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Detection;

namespace FlowEngine.Archive;

/// <summary>
/// What the archive keeps beside a flow record: the VMs at its ends and the tenant, its application metadata, and
/// what a detector said about it. Every part is optional; <c>default</c> is a record without context.
/// </summary>
public ref struct FlowContext
{
    /// <summary>The originator's VM name; null when unknown or outside.</summary>
    public string? SourceVm { get; set; }

    /// <summary>The responder's VM name; null when unknown or outside.</summary>
    public string? DestinationVm { get; set; }

    /// <summary>The tenant; null when unknown.</summary>
    public string? Tenant { get; set; }

    /// <summary>The originator is outside the virtual network.</summary>
    public bool SourceOutside { get; set; }

    /// <summary>The responder is outside the virtual network.</summary>
    public bool DestinationOutside { get; set; }

    /// <summary>Seconds from the originator VM's previous flow start to this one's (<see cref="VmIdentity.SourceSecondsSincePrevious"/>); null when not known.</summary>
    public float? SourceGapSeconds { get; set; }

    /// <summary>As <see cref="SourceGapSeconds"/> for the responder VM.</summary>
    public float? DestinationGapSeconds { get; set; }

    /// <summary>The flow's application metadata (<c>default</c>: none).</summary>
    public AppMetadata Metadata { get; set; }

    /// <summary>The detector's score; null when the flow was not scored.</summary>
    public double? Score { get; set; }

    /// <summary>The attack class the flow was put in (<see cref="AttackClass.None"/> when none).</summary>
    public AttackClass AlertClass { get; set; }

    /// <summary>True when the flow raised an alert.</summary>
    public bool IsAlert { get; set; }

    /// <summary>The context of an emitted record from the pipeline's extensions.</summary>
    /// <param name="vms">Both ends' VMs (<see cref="VmIdentityTable.ForRecord"/>).</param>
    /// <param name="metadata">The application metadata (<see cref="AppMetadataTable.ForRecord"/>).</param>
    /// <returns>The context.</returns>
    public static FlowContext From(VmIdentity vms, AppMetadata metadata) => new()
    {
        SourceVm = vms.Source?.Name,
        DestinationVm = vms.Destination?.Name,
        Tenant = vms.Tenant,
        SourceOutside = vms.SourceOutside,
        DestinationOutside = vms.DestinationOutside,
        SourceGapSeconds = float.IsNaN(vms.SourceSecondsSincePrevious) ? null : vms.SourceSecondsSincePrevious,
        DestinationGapSeconds = float.IsNaN(vms.DestinationSecondsSincePrevious) ? null : vms.DestinationSecondsSincePrevious,
        Metadata = metadata,
    };
}
