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
    /// <summary>Packets between two calls to <see cref="FlowTable.Advance"/>, and per <see cref="FlowTable.UpdateBatch"/>.</summary>
    public const int BatchSize = 256;

    private readonly FlowTable _table;
    private readonly DecodedPacket[] _buffer;
    private int _buffered;

    private readonly bool _perPacket;

    /// <summary>Creates the stage over a table.</summary>
    /// <param name="table">The table.</param>
    /// <param name="perPacket">Account with <see cref="FlowTable.Update"/> one packet at a time instead of
    /// <see cref="FlowTable.UpdateBatch"/> (the baseline of the batch stages).</param>
    public FlowTableStage(FlowTable table, bool perPacket = false)
    {
        _table = table;
        _perPacket = perPacket;
        _buffer = new DecodedPacket[BatchSize];
        _buffered = 0;
    }

    /// <summary>Packets the table did not account (later fragments without a first).</summary>
    public long Unaccounted { get; private set; }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Process(ReadOnlySpan<byte> frame, ref DecodedPacket packet)
    {
        _buffer[_buffered++] = packet;
        if (_buffered == BatchSize)
        {
            Complete();
        }
    }

    /// <summary>Accounts the buffered packets and advances packet time, as the pipeline does per batch.</summary>
    public void Complete()
    {
        if (_buffered == 0)
        {
            return;
        }

        if (_perPacket)
        {
            for (int i = 0; i < _buffered; i++)
            {
                if (!_table.Update(in _buffer[i]))
                {
                    Unaccounted++;
                }
            }
        }
        else
        {
            Unaccounted += _buffered - _table.UpdateBatch(_buffer.AsSpan(0, _buffered));
        }

        _table.Advance(_buffer[_buffered - 1].TimestampNs);
        _buffered = 0;
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
