// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Mitigation;
using FlowEngine.Packets;

namespace FlowEngine;

/// <summary>
/// One worker's pipeline without flow extensions: packet source -> decoder -> flow table -> flow sink, on the calling
/// thread (see <see cref="FlowPipeline{TExtension}"/>).
/// </summary>
/// <example>
/// <code>
/// using IPacketSource capture = CaptureFile.Open("trace.pcap");
/// var pipeline = new FlowPipeline(FlowSink.FromDelegate((in FlowRecord f) => Console.WriteLine(f.SourceAddress.ToString(f.IpVersion))));
/// PipelineStatistics stats = pipeline.Run(capture);
/// </code>
/// </example>
public sealed class FlowPipeline : FlowPipeline<NoFlowExtension>
{
    /// <summary>Creates a pipeline; allocates its flow table and batch once.</summary>
    /// <param name="sink">Receives every flow record.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="events">Receives flow events; none are raised without it.</param>
    public FlowPipeline(IFlowSink sink, FlowPipelineOptions? options = null, IFlowEventHandler? events = null)
        : base(sink, options, default, events)
    {
    }
}

/// <summary>
/// One worker's pipeline: packet source -> decoder -> flow table with <typeparamref name="TExtension"/> -> flow sink,
/// on the calling thread. The extension's packet hooks see each packet's frame.
/// </summary>
/// <typeparam name="TExtension">The flow table's extension.</typeparam>
public class FlowPipeline<TExtension> : IDisposable
    where TExtension : struct, IFlowExtension
{
    // Frames ahead whose headers are prefetched while one is decoded: 4 measured 1.09-1.21x over none at 100k
    // flows from DRAM, 16 another 1.02-1.06x over 4 (32: the same as 16); see docs/performance.md.
    private const int HeaderPrefetchDistance = 16;

    private readonly PacketDecoder _decoder;
    private readonly FlowTable<TExtension> _table;
    private readonly PacketBatch _batch;
    private readonly DecodedPacket[] _decoded;
    private readonly int[] _decodedFrame;
    private readonly int[] _slots;
    private readonly PipelineStatistics _statistics = new();

    /// <summary>Creates a pipeline; allocates its flow table and batch once.</summary>
    /// <param name="sink">Receives every flow record.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="extension">The flow table's extension.</param>
    /// <param name="events">Receives flow events; none are raised without it.</param>
    public FlowPipeline(IFlowSink sink, FlowPipelineOptions? options, TExtension extension, IFlowEventHandler? events = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        options ??= new FlowPipelineOptions();
        _decoder = new PacketDecoder(options.Decoder);
        _table = new FlowTable<TExtension>(options.Flows, sink, extension, events);
        _batch = new PacketBatch(options.BatchSize);
        _decoded = new DecodedPacket[options.BatchSize];
        _decodedFrame = new int[options.BatchSize];
        _slots = new int[options.BatchSize];
    }

    /// <summary>The flow table (its counters, capacity, extension and marks).</summary>
    public FlowTable<TExtension> Table => _table;

    /// <summary>Counters so far.</summary>
    public PipelineStatistics Statistics
    {
        get
        {
            _statistics.Flows = _table.Statistics;
            return _statistics;
        }
    }

    /// <summary>
    /// Reads the source to its end (or until cancelled), then flushes every flow. When the source reports damage,
    /// the flows of every packet before it are flushed and the <see cref="CaptureFormatException"/> is rethrown.
    /// </summary>
    /// <param name="source">The packets.</param>
    /// <param name="cancellationToken">Stops reading; the flows so far are flushed.</param>
    /// <returns>The counters.</returns>
    public PipelineStatistics Run(IPacketSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            while (!cancellationToken.IsCancellationRequested && TryProcessNext(source, out _))
            {
            }
        }
        finally
        {
            _table.Flush();
        }

        return Statistics;
    }

    /// <summary>
    /// Reads one batch from <paramref name="source"/> into the pipeline's own batch and processes it: the step of
    /// <see cref="Run"/>, for callers that run their own loop (a poll loop that yields when a live source is idle).
    /// </summary>
    /// <param name="source">The packets.</param>
    /// <param name="frames">Frames read and processed (0 when a live source had nothing).</param>
    /// <returns>False once the source has ended (nothing was read).</returns>
    public bool TryProcessNext(IPacketSource source, out int frames)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.ReadBatch(_batch))
        {
            frames = 0;
            return false;
        }

        frames = _batch.Count;
        ProcessCore(_batch, null, default);
        return true;
    }

    /// <summary>Decodes and accounts one batch, then advances packet time (expiring due flows).</summary>
    /// <param name="batch">The frames.</param>
    public void ProcessBatch(PacketBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ProcessCore(batch, null, default);
    }

    /// <summary>
    /// Decodes and accounts one batch as <see cref="ProcessBatch"/> does (same statistics), then decides every decoded
    /// packet once it is accounted: the inline path's entry. A packet whose flow is marked
    /// <see cref="FlowAction.Drop"/> (<see cref="IFlowMarks"/>) is dropped from its slot's mark without asking
    /// <paramref name="verdict"/>; every other packet is given to <paramref name="verdict"/>, together with a reference
    /// to its flow's mark when the verdict is an <see cref="IFlowVerdict"/> (which shapes flows marked
    /// <see cref="FlowAction.Shape"/> from the slot).
    /// </summary>
    /// <param name="batch">The frames.</param>
    /// <param name="verdict">Decides for every decoded packet, in frame order.</param>
    /// <param name="verdicts">
    /// Receives one verdict per frame (at least <see cref="PacketBatch.Count"/> entries); frames that do not decode
    /// (ARP, for one) are <see cref="PacketVerdict.Forward"/>, so an inline path stays transparent to them.
    /// </param>
    public void ProcessInlineBatch(PacketBatch batch, IPacketVerdict verdict, Span<PacketVerdict> verdicts)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(verdict);
        if (verdicts.Length < batch.Count)
        {
            throw new ArgumentException($"{verdicts.Length} verdicts for a batch of {batch.Count} frames", nameof(verdicts));
        }

        verdicts[..batch.Count].Clear();
        ProcessCore(batch, verdict, verdicts);
    }

    /// <summary>Releases the flow table's native memory (without flushing: call <see cref="Flush"/> first).</summary>
    public void Dispose()
    {
        _table.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Emits every flow still in the table (end of input).</summary>
    public void Flush() => _table.Flush();

    private void ProcessCore(PacketBatch batch, IPacketVerdict? verdict, Span<PacketVerdict> verdicts)
    {
        long last = long.MinValue;
        int offset = 0;
        while (offset < batch.Count)
        {
            // Decode a chunk into the reusable buffer, then let the table account it in stages.
            int decoded = 0;
            int end = Math.Min(batch.Count, offset + _decoded.Length);
            for (int i = offset; i < end; i++)
            {
                ref DecodedPacket packet = ref _decoded[decoded];
                batch.PrefetchHeaders(i + HeaderPrefetchDistance);

                ReadOnlySpan<byte> frame = batch.GetFrame(i, out packet.TimestampNs, out packet.WireLength, out LinkType linkType);
                if (packet.TimestampNs > last)
                {
                    last = packet.TimestampNs;
                }

                if (_decoder.Decode(frame, linkType, ref packet))
                {
                    // Decoded packets are mapped back to their frames for the inline path's verdicts and for the
                    // extensions' start and packet hooks; a plain flow meter needs neither.
                    if (verdict is not null || _table.Extension.MaskBits != 0)
                    {
                        _decodedFrame[decoded] = i;
                    }

                    decoded++;
                }
                else
                {
                    _statistics.CountRejected(packet.Reject);
                }
            }

            _statistics.PacketsRead += end - offset;
            // An extension with mask bits sees the first packet's frame at OnStart (the VM identity reads its MACs
            // there) even when it wants no packet after it.
            int accounted = _table.Extension.MaskBits != 0 || verdict is not null
                ? _table.UpdateBatch(_decoded.AsSpan(0, decoded), _table.Extension.MaskBits != 0 ? batch : null, _decodedFrame, verdict is null ? default : _slots.AsSpan(0, decoded))
                : _table.UpdateBatch(_decoded.AsSpan(0, decoded));
            _statistics.PacketsDecoded += accounted;

            // Later fragments whose first fragment was not seen: no ports, no flow.
            _statistics.CountRejected(RejectReason.NonFirstFragment, decoded - accounted);

            if (verdict is not null)
            {
                IFlowVerdict? flowVerdict = verdict as IFlowVerdict;
                for (int j = 0; j < decoded; j++)
                {
                    int slot = _slots[j];
                    PacketVerdict v;
                    if (slot < 0)
                    {
                        v = verdict.Decide(in _decoded[j]);
                    }
                    else
                    {
                        ref uint mark = ref _table.MarkRef(slot);
                        v = (FlowAction)(byte)mark == FlowAction.Drop ? PacketVerdict.Drop
                            : flowVerdict is not null ? flowVerdict.Decide(in _decoded[j], ref mark)
                            : verdict.Decide(in _decoded[j]);
                    }

                    verdicts[_decodedFrame[j]] = v;
                }
            }

            offset = end;
        }

        if (batch.Count > 0)
        {
            _table.Advance(last);
        }
    }
}
