// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Pipeline;

/// <summary>
/// The flow stage: every decoded packet updates the worker's flow table, and packet time advances once per
/// <see cref="BatchSize"/> packets, as <see cref="FlowPipeline.ProcessBatch"/> does per batch.
/// </summary>
public struct FlowTableStage : IPacketStage
{
    /// <summary>Packets between two calls to <see cref="FlowTable.Advance"/>.</summary>
    public const int BatchSize = 256;

    private readonly FlowTable _table;
    private int _sinceAdvance;

    /// <summary>Creates the stage over a table.</summary>
    /// <param name="table">The table.</param>
    public FlowTableStage(FlowTable table)
    {
        _table = table;
        _sinceAdvance = 0;
    }

    /// <summary>Packets the table did not account (later fragments without a first).</summary>
    public long Unaccounted { get; private set; }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Process(ReadOnlySpan<byte> frame, ref DecodedPacket packet)
    {
        if (!_table.Update(in packet))
        {
            Unaccounted++;
        }

        if (++_sinceAdvance == BatchSize)
        {
            _sinceAdvance = 0;
            _table.Advance(packet.TimestampNs);
        }
    }
}

/// <summary>A sink that counts records and folds them into a checksum, so two passes can be compared.</summary>
public sealed class CountingSink : IFlowSink
{
    /// <summary>Records received.</summary>
    public long Records { get; private set; }

    /// <summary>Packets in the records received.</summary>
    public ulong Packets { get; private set; }

    /// <inheritdoc/>
    public void OnFlow(in FlowRecord record)
    {
        Records++;
        Packets += record.ForwardPackets + record.ReversePackets;
    }

    /// <summary>Zeroes the counters.</summary>
    public void Reset()
    {
        Records = 0;
        Packets = 0;
    }
}
