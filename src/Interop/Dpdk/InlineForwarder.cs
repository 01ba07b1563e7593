// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Mitigation;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>
/// Inline mode for an appliance: two started ports, frames received on one sent out of the other after
/// processing. Each burst (RX queue 0) goes through a <see cref="FlowPipeline"/> (decoded, accounted to its flows,
/// counted in <see cref="Statistics"/>) and is judged packet by packet by an <see cref="IPacketVerdict"/> (the
/// mitigation hook); the forwarded frames leave in one TX burst (TX queue 0) of the other port. Two native calls a
/// burst: frames the device did not take are freed inside the TX call, dropped frames inside the next RX call.
/// </summary>
/// <remarks>
/// Frames that do not decode as IP (ARP, for one) carry no flow and are forwarded, so the two sides can still
/// resolve each other. Flows are accounted from every received frame, dropped or not: the records show what
/// arrived, the statistics what was dropped. One thread runs <see cref="PollOnce"/> or <see cref="Run"/>; the
/// verdict's rules may change from other threads when the hook allows it (as <see cref="MitigationTable"/> does).
/// </remarks>
public sealed unsafe class InlineForwarder : IDisposable
{
    // Invariant: the native arrays hold _burst entries each and are freed at Dispose. After a step, every mbuf it
    // received is sent (the device owns it), freed, or dropped and held in the first _pendingFree entries of _rx
    // until the next RX call frees them (or Dispose does).
    private readonly DpdkPort _first;
    private readonly DpdkPort _second;
    private readonly IPacketVerdict _verdict;
    private readonly FlowPipeline _pipeline;
    private readonly PacketBatch _batch;
    private readonly PacketVerdict[] _verdicts;
    private readonly int _burst;
    private nint* _rx;
    private nint* _tx;
    private FlowShim.RxDesc* _descs;
    private int _pendingFree;
    private long _received;
    private long _forwarded;
    private long _dropped;
    private long _notSent;

    /// <summary>Creates a forwarder between two started ports, each with at least one RX and one TX queue.</summary>
    /// <param name="first">One side (port 0 of the appliance).</param>
    /// <param name="second">The other side.</param>
    /// <param name="verdict">Decides for every decoded packet.</param>
    /// <param name="sink">Receives the flow records.</param>
    /// <param name="flows">Flow table settings; defaults when null.</param>
    /// <param name="burst">Most frames per RX burst. Default: 32.</param>
    public InlineForwarder(DpdkPort first, DpdkPort second, IPacketVerdict verdict, IFlowSink sink, FlowTableOptions? flows = null, int burst = 32)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(verdict);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(burst, ushort.MaxValue);
        if (first.PortId == second.PortId)
        {
            throw new ArgumentException("the two sides must be different ports", nameof(second));
        }

        foreach (DpdkPort p in new[] { first, second })
        {
            if (p.RxQueues < 1 || p.TxQueues < 1)
            {
                throw new ArgumentException($"port {p.Name} needs an RX and a TX queue ({p.RxQueues} RX, {p.TxQueues} TX configured)");
            }
        }

        _first = first;
        _second = second;
        _verdict = verdict;
        _burst = burst;
        _pipeline = new FlowPipeline(sink, new FlowPipelineOptions { Flows = flows ?? new FlowTableOptions(), BatchSize = burst });
        _batch = new PacketBatch(burst);
        _verdicts = new PacketVerdict[burst];
        _rx = (nint*)NativeMemory.AlignedAlloc((nuint)(burst * sizeof(nint)), 64);
        _tx = (nint*)NativeMemory.AlignedAlloc((nuint)(burst * sizeof(nint)), 64);
        _descs = (FlowShim.RxDesc*)NativeMemory.AlignedAlloc((nuint)(burst * sizeof(FlowShim.RxDesc)), 64);
    }

    /// <summary>The flow table (counters, capacity).</summary>
    public FlowTable<NoFlowExtension> Table => _pipeline.Table;

    /// <summary>Frames read, decoded and rejected by reason, as any <see cref="FlowPipeline"/> counts them.</summary>
    public PipelineStatistics Statistics => _pipeline.Statistics;

    /// <summary>Frames received on either port.</summary>
    public long Received => _received;

    /// <summary>Frames the other port's device took.</summary>
    public long Forwarded => _forwarded;

    /// <summary>Frames the verdict dropped.</summary>
    public long Dropped => _dropped;

    /// <summary>Frames to forward that the device did not take (its TX ring was full); freed.</summary>
    public long NotSent => _notSent;

    /// <summary>One burst from the first port to the second, then one from the second to the first.</summary>
    /// <returns>Frames received in both.</returns>
    public int PollOnce()
    {
        ObjectDisposedException.ThrowIf(_rx == null, this);
        int n = Step(_first, _second);
        n += Step(_second, _first);
        return n;
    }

    /// <summary>Forwards until <paramref name="cancellationToken"/> is cancelled or a port stops, then flushes the flows.</summary>
    /// <param name="cancellationToken">Stops the loop.</param>
    public void Run(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested && _first.IsStarted && _second.IsStarted)
            {
                if (PollOnce() == 0)
                {
                    // Poll mode; yielding keeps an idle forwarder from starving the other threads of a small host.
                    Thread.Yield();
                }
            }
        }
        finally
        {
            _pipeline.Flush();
        }
    }

    /// <summary>Emits every flow still in the table.</summary>
    public void Flush() => _pipeline.Flush();

    /// <summary>Frees the dropped frames still held, the burst arrays and the flow table's memory (without flushing).</summary>
    public void Dispose()
    {
        if (_rx == null)
        {
            return;
        }

        if (_pendingFree != 0)
        {
            FlowShim.MbufFreeBulk(_rx, (uint)_pendingFree);
            _pendingFree = 0;
        }

        NativeMemory.AlignedFree(_rx);
        NativeMemory.AlignedFree(_tx);
        NativeMemory.AlignedFree(_descs);
        _rx = null;
        _tx = null;
        _descs = null;
        _pipeline.Dispose();
    }

    private int Step(DpdkPort from, DpdkPort to)
    {
        // The previous step's dropped frames are freed by this call, before the new burst lands in _rx.
        int n = FlowShim.RxBurst((ushort)from.PortId, 0, _rx, (ushort)_pendingFree, _descs, (ushort)_burst);
        _pendingFree = 0;
        if (n == 0)
        {
            return 0;
        }

        _batch.Clear();
        _ = DpdkPacketSource.AppendBurst(_batch, _descs, n, from.PortId);

        _pipeline.ProcessInlineBatch(_batch, _verdict, _verdicts);

        // Forwarded frames to _tx; dropped ones compacted to the front of _rx (drop never passes i).
        int send = 0, drop = 0;
        for (int i = 0; i < n; i++)
        {
            if (_verdicts[i] == PacketVerdict.Drop)
            {
                _rx[drop++] = _rx[i];
            }
            else
            {
                _tx[send++] = _rx[i];
            }
        }

        int sent = send == 0 ? 0 : FlowShim.TxBurst((ushort)to.PortId, 0, _tx, (ushort)send, freeUnsent: 1);
        _pendingFree = drop;
        _received += n;
        _forwarded += sent;
        _notSent += send - sent;
        _dropped += drop;
        return n;
    }
}
