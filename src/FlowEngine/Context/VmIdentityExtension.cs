// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Context;

/// <summary>
/// The flow table extension that fills a <see cref="VmIdentityTable"/>: resolves both ends of a flow at its start
/// (before the Started event, so a handler sees the VMs) and hands them to the record at emit. Wants no packets after
/// the first.
/// </summary>
/// <example>
/// <code>
/// var vms = new VmIdentityTable(VmInventory.Load("inventory.csv"));     // or new VmIdentityTable() to learn them
/// var pipeline = new FlowPipeline&lt;VmIdentityExtension&gt;(sink, options, new VmIdentityExtension(vms));
/// // in the sink: VmIdentity v = vms.ForRecord(i); v.Source?.Name, v.Destination?.Name, v.Tenant ...
/// </code>
/// </example>
public readonly struct VmIdentityExtension : IFlowExtension
{
    private readonly VmIdentityTable _table;

    /// <summary>An extension over <paramref name="table"/> (one table per flow table).</summary>
    /// <param name="table">Where the identities go.</param>
    public VmIdentityExtension(VmIdentityTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
    }

    /// <summary>The identity table.</summary>
    public VmIdentityTable Table => _table;

    /// <inheritdoc/>
    /// <remarks>One bit, so the table calls <see cref="OnStart"/>; it is never set (no packet hooks).</remarks>
    public int MaskBits => 1;

    /// <inheritdoc/>
    public bool WantsPackets => false;

    /// <inheritdoc/>
    public bool WantsEmit => true;

    /// <inheritdoc/>
    public void Initialize(in FlowExtensionContext context)
    {
        if (_table is null)
        {
            throw new InvalidOperationException("VmIdentityExtension needs a VmIdentityTable (use its constructor, not default)");
        }

        _table.Initialize(in context);
    }

    /// <inheritdoc/>
    public uint OnStart(int slot, in DecodedPacket firstPacket, ReadOnlySpan<byte> frame, bool firstFromOriginator)
    {
        _table.OnStart(slot, in firstPacket, frame, firstFromOriginator);
        return 0;
    }

    /// <inheritdoc/>
    public uint OnPacket(int slot, uint mask, in DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator) => 0;

    /// <inheritdoc/>
    public void OnEmit(int slot, int recordIndex, in FlowRecord record) => _table.OnEmit(slot, recordIndex, in record);

    /// <inheritdoc/>
    public void OnDelivered(int count)
    {
    }
}
