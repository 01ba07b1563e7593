// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Flows;
using FlowEngine.Mitigation;
using FlowEngine.Packets;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>
/// Inline mode for an appliance: two started ports, frames received on one sent out of the other after
/// processing. Each burst (RX queue 0) is decoded, accounted to its flows, judged packet by packet by an
/// <see cref="IPacketVerdict"/> (the mitigation hook), and the forwarded frames leave in one TX burst (TX
/// queue 0) of the other port; dropped frames, and frames the device did not take, go back to the pool.
/// </summary>
/// <remarks>
/// Frames that do not decode as IP (ARP, for one) carry no flow and are forwarded, so the two sides can still
/// resolve each other. Flows are accounted from every received frame, dropped or not: the records show what
/// arrived, the statistics what was dropped. One thread runs <see cref="PollOnce"/> or <see cref="Run"/>; the
/// verdict's rules may change from other threads when the hook allows it (as <see cref="MitigationTable"/> does).
/// </remarks>
public sealed unsafe class InlineForwarder : IDisposable
{
    // Invariant: every native array holds _burst entries and is freed at Dispose; no mbuf outlives a PollOnce
    // step: it is sent (the device owns it) or freed before the step returns.
    private readonly DpdkPort _first;
    private readonly DpdkPort _second;
    private readonly IPacketVerdict _verdict;
    private readonly PacketDecoder _decoder;
    private readonly FlowTable _table;
    private readonly DecodedPacket[] _decoded;
    private readonly int[] _decodedFrame;
    private readonly int _burst;
    private nint* _rx;
    private nint* _tx;
    private nint* _drop;
    private FlowShim.RxDesc* _descs;
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
        _decoder = new PacketDecoder();
        _table = new FlowTable(flows ?? new FlowTableOptions(), sink);
        _decoded = new DecodedPacket[burst];
        _decodedFrame = new int[burst];
        _rx = (nint*)NativeMemory.AlignedAlloc((nuint)(burst * sizeof(nint)), 64);
        _tx = (nint*)NativeMemory.AlignedAlloc((nuint)(burst * sizeof(nint)), 64);
        _drop = (nint*)NativeMemory.AlignedAlloc((nuint)(burst * sizeof(nint)), 64);
        _descs = (FlowShim.RxDesc*)NativeMemory.AlignedAlloc((nuint)(burst * sizeof(FlowShim.RxDesc)), 64);
    }

    /// <summary>The flow table (counters, capacity).</summary>
    public FlowTable Table => _table;

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
            _table.Flush();
        }
    }

    /// <summary>Emits every flow still in the table.</summary>
    public void Flush() => _table.Flush();

    /// <summary>Frees the burst arrays and the flow table's memory (without flushing).</summary>
    public void Dispose()
    {
        if (_rx == null)
        {
            return;
        }

        NativeMemory.AlignedFree(_rx);
        NativeMemory.AlignedFree(_tx);
        NativeMemory.AlignedFree(_drop);
        NativeMemory.AlignedFree(_descs);
        _rx = null;
        _tx = null;
        _drop = null;
        _descs = null;
        _table.Dispose();
    }

    private int Step(DpdkPort from, DpdkPort to)
    {
        int n = FlowShim.RxBurst((ushort)from.PortId, 0, _rx, 0, _descs, (ushort)_burst);
        if (n == 0)
        {
            return 0;
        }

        // Decode; frames that do not decode keep the Forward verdict (marked -1 below).
        Span<sbyte> verdicts = stackalloc sbyte[n];
        int decoded = 0;
        long last = long.MinValue;
        FlowShim.RxDesc* d = _descs;
        for (int i = 0; i < n; i++, d++)
        {
            verdicts[i] = -1;
            ref DecodedPacket packet = ref _decoded[decoded];
            packet.TimestampNs = d->TimestampNs;
            packet.WireLength = (int)d->PacketLength;
            last = Math.Max(last, d->TimestampNs);
            if (_decoder.Decode(new ReadOnlySpan<byte>((void*)d->Data, d->DataLength), LinkType.Ethernet, ref packet) && packet.IpVersion != 0)
            {
                _decodedFrame[decoded++] = i;
            }
        }

        _ = _table.UpdateBatch(_decoded.AsSpan(0, decoded));
        _table.Advance(last);
        for (int j = 0; j < decoded; j++)
        {
            verdicts[_decodedFrame[j]] = (sbyte)_verdict.Decide(in _decoded[j]);
        }

        int send = 0, drop = 0;
        for (int i = 0; i < n; i++)
        {
            if (verdicts[i] == (sbyte)PacketVerdict.Drop)
            {
                _drop[drop++] = _rx[i];
            }
            else
            {
                _tx[send++] = _rx[i];
            }
        }

        int sent = send == 0 ? 0 : FlowShim.TxBurst((ushort)to.PortId, 0, _tx, (ushort)send, freeUnsent: 1);

        if (drop != 0)
        {
            FlowShim.MbufFreeBulk(_drop, (uint)drop);
        }

        _received += n;
        _forwarded += sent;
        _notSent += send - sent;
        _dropped += drop;
        return n;
    }
}
