// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>Settings of the application metadata extension (<see cref="AppMetadataExtension"/>).</summary>
public sealed class AppMetadataOptions
{
    /// <summary>
    /// Most flows that hold metadata text at once (each takes one block of about 1.2 KiB from a pool sized once). A
    /// flow that finds the pool empty keeps its application label and numbers, not its text, and is counted in
    /// <see cref="AppMetadataStatistics.BlocksExhausted"/>. Default: 65536.
    /// </summary>
    public int MaxFlowsWithMetadata { get; set; } = 65536;

    /// <summary>Packets of a flow (both directions, with or without payload) the extension looks at, at most. Default: 24.</summary>
    public int PacketBudget { get; set; } = 24;

    /// <summary>ClientHellos being reassembled across TCP segments at once (each buffer holds <see cref="ReassemblyBytes"/>). Default: 256.</summary>
    public int ReassemblyBuffers { get; set; } = 256;

    /// <summary>Most bytes of a ClientHello reassembled from several segments. Default: 16384 (the TLS record limit).</summary>
    public int ReassemblyBytes { get; set; } = 16384;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFlowsWithMetadata, 1, nameof(MaxFlowsWithMetadata));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFlowsWithMetadata, 1 << 22, nameof(MaxFlowsWithMetadata));
        ArgumentOutOfRangeException.ThrowIfLessThan(PacketBudget, 1, nameof(PacketBudget));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PacketBudget, 255, nameof(PacketBudget));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReassemblyBuffers, 0, nameof(ReassemblyBuffers));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReassemblyBuffers, 1 << 16, nameof(ReassemblyBuffers));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReassemblyBytes, 512, nameof(ReassemblyBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReassemblyBytes, 1 << 17, nameof(ReassemblyBytes));
    }
}
