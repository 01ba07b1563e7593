// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.AppLayer;

/// <summary>
/// The application metadata of one flow table's flows: DNS, HTTP/1.x, TLS (with JA3, JA3S and JA4) and SSH, read
/// from each flow's first packets without keeping them. Plug it into a table or pipeline with
/// <see cref="AppMetadataExtension"/>; read it for a running flow with <see cref="ForFlow"/> (from a flow event) and
/// for an emitted record with <see cref="ForRecord"/> (in the sink, during its call). One table, one thread.
/// </summary>
/// <remarks>
/// Per slot the table keeps 16 bytes (<see cref="BytesPerSlot"/>); a flow that carries an application takes one block
/// of <see cref="BytesPerBlock"/> bytes from a pool sized once (<see cref="AppMetadataOptions.MaxFlowsWithMetadata"/>)
/// and gives it back when its record has been delivered. Nothing is allocated per packet or per flow.
/// </remarks>
public sealed partial class AppMetadataTable
{
    private readonly AppMetadataOptions _options;
    private readonly AppMetadataBlock[] _blocks;
    private readonly int[] _freeBlocks;
    private readonly byte[] _reassembly;
    private readonly int[] _reassemblyLength;
    private readonly int[] _freeReassembly;
    private readonly byte[] _handshake;
    private int _freeBlockCount;
    private int _freeReassemblyCount;
    private FlowState[] _flows = [];
    private Emitted[] _emitted = [];
    private AppMetadataStatistics _statistics;

    /// <summary>Allocates the pools; the per-slot columns follow when a table initialises its extension.</summary>
    /// <param name="options">Settings; defaults when null.</param>
    public AppMetadataTable(AppMetadataOptions? options = null)
    {
        _options = options ?? new AppMetadataOptions();
        _options.Validate();
        _blocks = GC.AllocateUninitializedArray<AppMetadataBlock>(_options.MaxFlowsWithMetadata, pinned: true);
        _freeBlocks = new int[_blocks.Length];
        for (int i = 0; i < _freeBlocks.Length; i++)
        {
            _freeBlocks[i] = _freeBlocks.Length - 1 - i;
        }

        _freeBlockCount = _freeBlocks.Length;
        _reassembly = GC.AllocateUninitializedArray<byte>(_options.ReassemblyBuffers * _options.ReassemblyBytes, pinned: true);
        _reassemblyLength = new int[_options.ReassemblyBuffers];
        _freeReassembly = new int[_options.ReassemblyBuffers];
        for (int i = 0; i < _freeReassembly.Length; i++)
        {
            _freeReassembly[i] = _freeReassembly.Length - 1 - i;
        }

        _freeReassemblyCount = _freeReassembly.Length;
        _handshake = GC.AllocateUninitializedArray<byte>(_options.ReassemblyBytes, pinned: true);
    }

    /// <summary>Bytes per table slot.</summary>
    public static int BytesPerSlot => Unsafe.SizeOf<FlowState>();

    /// <summary>Bytes of one flow's metadata block.</summary>
    public static int BytesPerBlock => Unsafe.SizeOf<AppMetadataBlock>();

    /// <summary>Bytes of memory the pools and columns take.</summary>
    public long MemoryBytes => ((long)_blocks.Length * BytesPerBlock) + _reassembly.Length + ((long)_flows.Length * BytesPerSlot)
        + ((long)_emitted.Length * Unsafe.SizeOf<Emitted>());

    /// <summary>Counters so far.</summary>
    public AppMetadataStatistics Statistics
    {
        get
        {
            AppMetadataStatistics s = _statistics;
            s.BlocksInUse = _blocks.Length - _freeBlockCount;
            return s;
        }
    }

    /// <summary>The metadata of the running flow in <paramref name="slot"/> (a <see cref="FlowHandle.Slot"/>).</summary>
    /// <param name="slot">The slot.</param>
    /// <returns>The view.</returns>
    public AppMetadata ForFlow(int slot)
    {
        ref FlowState f = ref _flows[slot];
        return f.Block == 0 ? new AppMetadata((AppProtocol)f.App, ref Unsafe.NullRef<AppMetadataBlock>(), false)
            : new AppMetadata((AppProtocol)f.App, ref _blocks[f.Block - 1], true);
    }

    /// <summary>The metadata of the record at <paramref name="recordIndex"/> of the batch the sink is being given.</summary>
    /// <param name="recordIndex">The record's index in the span passed to <see cref="IFlowSink.OnFlows"/>.</param>
    /// <returns>The view.</returns>
    public AppMetadata ForRecord(int recordIndex)
    {
        ref Emitted e = ref _emitted[recordIndex];
        return e.Block == 0 ? new AppMetadata(e.App, ref Unsafe.NullRef<AppMetadataBlock>(), false)
            : new AppMetadata(e.App, ref _blocks[e.Block - 1], true);
    }

    internal void Initialize(in FlowExtensionContext context)
    {
        if (_flows.Length != 0)
        {
            throw new InvalidOperationException("an AppMetadataTable serves one flow table");
        }

        _flows = GC.AllocateArray<FlowState>(context.Capacity, pinned: true);
        _emitted = new Emitted[context.RecordBatchSize];
    }

    internal uint OnStart(int slot, byte protocol)
    {
        ref FlowState f = ref _flows[slot];

        // A block still held here belonged to the slot's previous flow, whose record took it over at emit.
        f = default;

        // Only TCP and UDP carry the protocols read here; other flows cost nothing further.
        return protocol is Tcp or Udp ? 1u : 0u;
    }

    [SkipLocalsInit] // the parsers' stack buffers are written before they are read
    internal uint OnPacket(int slot, in DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator)
    {
        ref FlowState f = ref _flows[slot];
        f.Packets++;
        if ((packet.Flags & PacketFlags.HasTransport) != 0 && packet.PayloadLength > 0 && packet.PayloadOffset < frame.Length)
        {
            ReadOnlySpan<byte> payload = frame.Slice(packet.PayloadOffset, Math.Min(packet.PayloadLength, frame.Length - packet.PayloadOffset));
            _statistics.PacketsParsed++;
            Parse(ref f, in packet, payload, fromOriginator);
        }

        if (f.Packets >= _options.PacketBudget || IsComplete(ref f) || (f.App == 0 && (f.Done & (OriginatorTried | ResponderTried)) == (OriginatorTried | ResponderTried)))
        {
            ReleaseReassembly(ref f);
            return 0;
        }

        return 1;
    }

    internal void OnEmit(int slot, int recordIndex, in FlowRecord record)
    {
        ref FlowState f = ref _flows[slot];
        ref Emitted e = ref _emitted[recordIndex];
        e.App = (AppProtocol)f.App;
        e.Block = f.Block;
        if (record.EndReason == FlowEndReason.ActiveTimeout)
        {
            // The flow continues in its slot and keeps its block; the record reads it until delivery.
            e.Owns = false;
            return;
        }

        // The flow has ended: its record takes the block over and gives it back once delivered.
        e.Owns = true;
        ReleaseReassembly(ref f);
        f.Block = 0;
    }

    internal void OnDelivered(int count)
    {
        for (int i = 0; i < count; i++)
        {
            ref Emitted e = ref _emitted[i];
            if (e.Owns && e.Block != 0)
            {
                _freeBlocks[_freeBlockCount++] = e.Block - 1;
            }

            e = default;
        }
    }

    // A block for a flow that has just been recognised: numbers and text go there. False when the pool is empty.
    private bool TakeBlock(ref FlowState f)
    {
        if (f.Block != 0)
        {
            return true;
        }

        if (_freeBlockCount == 0)
        {
            _statistics.BlocksExhausted++;
            return false;
        }

        int index = _freeBlocks[--_freeBlockCount];
        _blocks[index].Reset();
        f.Block = index + 1;
        return true;
    }

    private ref AppMetadataBlock BlockOf(ref FlowState f) => ref _blocks[f.Block - 1];

    private Span<byte> ReassemblyBuffer(int index) => _reassembly.AsSpan(index * _options.ReassemblyBytes, _options.ReassemblyBytes);

    private void ReleaseReassembly(ref FlowState f)
    {
        if (f.Reassembly != 0)
        {
            _freeReassembly[_freeReassemblyCount++] = f.Reassembly - 1;
            f.Reassembly = 0;
        }
    }

    /// <summary>The per-slot state: 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct FlowState
    {
        public int Block; // index + 1 in the block pool; 0: none
        public uint NextSequence; // the originator's next TCP sequence number while a ClientHello is reassembled
        public ushort Reassembly; // index + 1 of the reassembly buffer; 0: none
        public ushort Done; // DoneBits of the parts seen
        public byte App;
        public byte Packets;
        private readonly ushort _padding;
    }

    private struct Emitted
    {
        public int Block;
        public AppProtocol App;
        public bool Owns;
    }
}
