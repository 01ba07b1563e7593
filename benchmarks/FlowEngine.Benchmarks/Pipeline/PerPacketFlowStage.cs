// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Pipeline;

/// <summary>
/// The straightforward flow stage, the baseline of <c>--compare</c>: every decoded packet updates the flow table
/// with <see cref="FlowTable{TExtension}.Update"/> as it comes (no batch, no prefetch), and packet time advances once per
/// <see cref="BatchSize"/> packets as <see cref="FlowPipeline{TExtension}.ProcessBatch"/> does.
/// </summary>
public struct PerPacketFlowStage : IPacketStage
{
    /// <summary>Packets between two calls to <see cref="FlowTable{TExtension}.Advance"/>.</summary>
    public const int BatchSize = 256;

    private readonly FlowTable<NoFlowExtension> _table;
    private int _pending;
    private long _lastNs;

    /// <summary>Creates the stage over a table.</summary>
    /// <param name="table">The table.</param>
    public PerPacketFlowStage(FlowTable<NoFlowExtension> table)
    {
        _table = table;
        _pending = 0;
        _lastNs = long.MinValue;
    }

    /// <summary>Packets the table did not account (later fragments without a first).</summary>
    public long Unaccounted { get; private set; }

    /// <inheritdoc/>
    public void Process(ReadOnlySpan<byte> frame, ref DecodedPacket packet)
    {
        if (!_table.Update(in packet))
        {
            Unaccounted++;
        }

        _lastNs = Math.Max(_lastNs, packet.TimestampNs);
        if (++_pending == BatchSize)
        {
            Complete();
        }
    }

    /// <summary>Advances packet time, as the pipeline does per batch.</summary>
    public void Complete()
    {
        if (_pending != 0)
        {
            _table.Advance(_lastNs);
            _pending = 0;
        }
    }
}

/// <summary>A sink that counts records and the packets in them, so a pass that loses packets is caught.</summary>
public sealed class CountingSink : IFlowSink
{
    /// <summary>Records received.</summary>
    public long Records { get; private set; }

    /// <summary>Packets in the records received.</summary>
    public ulong Packets { get; private set; }

    /// <inheritdoc/>
    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        foreach (ref readonly FlowRecord record in records)
        {
            Records++;
            Packets += record.ForwardPackets + record.ReversePackets;
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

    /// <summary>Zeroes the counters.</summary>
    public void Reset()
    {
        Records = 0;
        Packets = 0;
    }
}
