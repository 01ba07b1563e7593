// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>The empty extension: a table with it is a plain flow meter, its hooks compiled away.</summary>
public readonly struct NoFlowExtension : IFlowExtension
{
    /// <inheritdoc/>
    public int MaskBits => 0;

    /// <inheritdoc/>
    public bool WantsPackets => false;

    /// <inheritdoc/>
    public bool WantsEmit => false;

    /// <inheritdoc/>
    public void Initialize(in FlowExtensionContext context)
    {
    }

    /// <inheritdoc/>
    public uint OnStart(int slot, in DecodedPacket firstPacket, ReadOnlySpan<byte> frame, bool firstFromOriginator) => 0;

    /// <inheritdoc/>
    public uint OnPacket(int slot, uint mask, in DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator) => 0;

    /// <inheritdoc/>
    public void OnEmit(int slot, int recordIndex, in FlowRecord record)
    {
    }

    /// <inheritdoc/>
    public void OnDelivered(int count)
    {
    }
}
