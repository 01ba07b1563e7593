// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.AppLayer;

/// <summary>
/// The flow table extension that fills an <see cref="AppMetadataTable"/>: one mask bit, packet and emit hooks, done
/// with a flow when its application's metadata is complete (<see cref="FlowEventKind.ExtensionDone"/>) or the packet
/// budget is spent.
/// </summary>
/// <example>
/// <code>
/// var metadata = new AppMetadataTable();
/// var pipeline = new FlowPipeline&lt;AppMetadataExtension&gt;(sink, options, new AppMetadataExtension(metadata));
/// // in the sink: AppMetadata m = metadata.ForRecord(i); m.Get(AppField.TlsSni) ...
/// </code>
/// </example>
public readonly struct AppMetadataExtension : IFlowExtension
{
    private readonly AppMetadataTable _table;

    /// <summary>An extension over <paramref name="table"/> (one table per flow table).</summary>
    /// <param name="table">Where the metadata goes.</param>
    public AppMetadataExtension(AppMetadataTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
    }

    /// <summary>The metadata table.</summary>
    public AppMetadataTable Table => _table;

    /// <inheritdoc/>
    public int MaskBits => 1;

    /// <inheritdoc/>
    public bool WantsPackets => true;

    /// <inheritdoc/>
    public bool WantsEmit => true;

    /// <inheritdoc/>
    public void Initialize(in FlowExtensionContext context)
    {
        if (_table is null)
        {
            throw new InvalidOperationException("AppMetadataExtension needs an AppMetadataTable (use its constructor, not default)");
        }

        _table.Initialize(in context);
    }

    /// <inheritdoc/>
    public uint OnStart(int slot, in DecodedPacket firstPacket, ReadOnlySpan<byte> frame, bool firstFromOriginator) => _table.OnStart(slot, firstPacket.Protocol);

    /// <inheritdoc/>
    public uint OnPacket(int slot, uint mask, in DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator)
        => _table.OnPacket(slot, in packet, frame, fromOriginator);

    /// <inheritdoc/>
    public void OnEmit(int slot, int recordIndex, in FlowRecord record) => _table.OnEmit(slot, recordIndex, in record);

    /// <inheritdoc/>
    public void OnDelivered(int count) => _table.OnDelivered(count);
}
