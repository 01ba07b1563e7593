// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Capture;
using FlowEngine.Flows.Internal;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>The table's seams: extension hooks, flow events, and the marks that decisions attach to slots.</summary>
public partial class FlowTable<TExtension>
{
    /// <inheritdoc/>
    public bool TrySetMark(FlowHandle flow, uint mark)
    {
        if (!IsLive(flow))
        {
            return false;
        }

        _entries[flow.Slot].State.Mark = mark;
        return true;
    }

    /// <inheritdoc/>
    public bool TryGetMark(FlowHandle flow, out uint mark)
    {
        if (!IsLive(flow))
        {
            mark = 0;
            return false;
        }

        mark = _entries[flow.Slot].State.Mark;
        return true;
    }

    /// <summary>The handle of the flow in <paramref name="slot"/> now (for extensions and handlers that know a slot).</summary>
    /// <param name="slot">A slot, 0 to <see cref="Capacity"/> - 1.</param>
    /// <param name="flow">The flow's handle.</param>
    /// <returns>False when the slot holds no flow.</returns>
    public bool TryGetHandle(int slot, out FlowHandle flow)
    {
        if ((uint)slot >= (uint)Capacity || _tags[slot] == 0)
        {
            flow = default;
            return false;
        }

        flow = new FlowHandle(slot, _cold[slot].Generation);
        return true;
    }

    /// <summary>
    /// The mark of the flow in <paramref name="slot"/> by reference, for the inline path (the slot came from this
    /// batch's update) and the <see cref="Mitigation.IFlowVerdict"/> that sets it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref uint MarkRef(int slot) => ref _entries[slot].State.Mark;

    private bool IsLive(FlowHandle flow)
        => (uint)flow.Slot < (uint)Capacity && _tags[flow.Slot] != 0 && _cold[flow.Slot].Generation == flow.Generation;

    // A new flow in slot: the extension resets its state and says which of its parts want packets; then the handler
    // hears of it (before the first packet is accounted, so a mark it sets applies to that packet too).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void StartExtensions(int slot, in DecodedPacket packet, bool sourceIsA, long ts, PacketBatch? frames, int frameIndex)
    {
        ref FlowState s = ref _entries[slot].State;
        if (_extension.MaskBits != 0)
        {
            // InitState has chosen the originator (a SYN-ACK seen first answered the other side's SYN).
            bool fromOriginator = sourceIsA == s.OriginatorIsA;
            uint bits = _extension.MaskBits >= 32 ? uint.MaxValue : (1u << _extension.MaskBits) - 1;
            ReadOnlySpan<byte> frame = frames is null ? default : frames.GetFrame(frameIndex);
            s.ExtensionMask = _extension.OnStart(slot, in packet, frame, fromOriginator) & bits;
        }

        if (_events is not null)
        {
            Raise(FlowEventKind.Started, slot, ts, 0);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RunPacketHooks(ref FlowState s, int slot, in DecodedPacket packet, PacketBatch? frames, int frameIndex, bool forward)
    {
        uint before = s.ExtensionMask;
        ReadOnlySpan<byte> frame = frames is null ? default : frames.GetFrame(frameIndex);
        uint after = _extension.OnPacket(slot, before, in packet, frame, forward) & before;
        s.ExtensionMask = after;
        if (after != before && _events is not null)
        {
            Raise(FlowEventKind.ExtensionDone, slot, _nowNs, before & ~after);
        }
    }

    private void Raise(FlowEventKind kind, int slot, long ts, uint doneMask)
    {
        ref FlowEntry e = ref _entries[slot];
        ref FlowKey k = ref e.Key;
        bool a = e.State.OriginatorIsA;
        var endpoints = new FlowEndpoints(
            new VirtualNetworkId(k.VnKind, k.VnId), a ? k.A : k.B, a ? k.B : k.A, a ? k.PortA : k.PortB, a ? k.PortB : k.PortA, k.IcmpId, k.Protocol, k.IpVersion);
        var flowEvent = new FlowEvent(this, kind, new FlowHandle(slot, _cold[slot].Generation), in endpoints, ts, doneMask);
        _events!.OnFlowEvent(in flowEvent);
    }
}
