// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows.Internal;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>The table's output: records built from a slot, collected into batches and delivered to the sink.</summary>
public partial class FlowTable<TExtension>
{
    private void Emit(int slot, FlowEndReason reason)
    {
        ref FlowState s = ref _entries[slot].State;
        ref FlowColdState cold = ref _cold[slot];
        if (s.IsContinuation && s.Forward.Packets == 0 && s.Reverse.Packets == 0)
        {
            // A continuation that saw no packet after its active-timeout record: nothing to report.
            return;
        }

        ref FlowKey k = ref _entries[slot].Key;
        int index = _recordCount;
        ref FlowRecord r = ref _records[index];
        r = default;
        bool aIsOriginator = s.OriginatorIsA;
        r.SourceAddress = aIsOriginator ? k.A : k.B;
        r.DestinationAddress = aIsOriginator ? k.B : k.A;
        r.SourcePort = aIsOriginator ? k.PortA : k.PortB;
        r.DestinationPort = aIsOriginator ? k.PortB : k.PortA;
        if (cold.OuterIpVersion == 4)
        {
            r.OuterSourceAddress = IpAddress.FromV4Raw(cold.OuterSourceV4);
            r.OuterDestinationAddress = IpAddress.FromV4Raw(cold.OuterDestinationV4);
            r.OuterIpVersion = 4;
        }
        else if (cold.EndpointIndex < _endpoints.Count)
        {
            EndpointPair e = _endpoints[cold.EndpointIndex];
            r.OuterSourceAddress = e.Source;
            r.OuterDestinationAddress = e.Destination;
            r.OuterIpVersion = e.IpVersion;
        }
        else
        {
            r.OuterSourceAddress = r.SourceAddress;
            r.OuterDestinationAddress = r.DestinationAddress;
            r.OuterIpVersion = k.IpVersion;
        }

        r.IcmpId = k.IcmpId;
        r.VnKind = k.VnKind;
        r.VnId = k.VnId;
        r.IpVersion = k.IpVersion;
        r.Protocol = k.Protocol;
        r.FirstNs = s.FirstNs;
        r.LastNs = s.LastNs;
        ref DirectionCounters f = ref s.Forward, b = ref s.Reverse;
        r.ForwardPackets = f.Packets;
        r.ReversePackets = b.Packets;
        r.ForwardBytes = f.Bytes;
        r.ReverseBytes = b.Bytes;
        r.ForwardPayloadBytes = f.Payload;
        r.ReversePayloadBytes = b.Payload;
        r.ForwardSizeMin = f.SizeMin;
        r.ForwardSizeMax = f.SizeMax;
        r.ReverseSizeMin = b.SizeMin;
        r.ReverseSizeMax = b.SizeMax;
        (r.ForwardSizeMean, r.ForwardSizeVariance) = f.SizeMoments();
        (r.ReverseSizeMean, r.ReverseSizeVariance) = b.SizeMoments();
        (r.ForwardIatMeanUs, r.ForwardIatVarianceUs2) = f.IatMoments();
        (r.ReverseIatMeanUs, r.ReverseIatVarianceUs2) = b.IatMoments();
        r.ForwardIatMinUs = f.IatMin;
        r.ForwardIatMaxUs = f.IatMax;
        r.ReverseIatMinUs = b.IatMin;
        r.ReverseIatMaxUs = b.IatMax;
        r.ForwardTcpFlags = (TcpFlags)s.ForwardTcpFlags;
        r.ReverseTcpFlags = (TcpFlags)s.ReverseTcpFlags;
        r.State = ConnectionStateOf(ref s, k.Protocol);
        r.EndReason = reason;
        r.VlanId = cold.VlanId;
        r.TunnelDepth = s.TunnelDepth;
        r.IsContinuation = s.IsContinuation;
        r.FirstPacketCount = s.FirstPacketCount;
        r.FirstPackets = cold.FirstPackets;
        _statistics.CountEmitted(reason);
        if (_extension.WantsEmit)
        {
            _extension.OnEmit(slot, index, in r);
        }

        if (++_recordCount == _records.Length)
        {
            Deliver();
        }
    }

    // Hands the records emitted since the last delivery to the sink, then tells the extension they are gone.
    private void Deliver()
    {
        int n = _recordCount;
        if (n == 0)
        {
            return;
        }

        _recordCount = 0;
        _sink.OnFlows(_records.AsSpan(0, n));
        if (_extension.WantsEmit)
        {
            _extension.OnDelivered(n);
        }
    }

    private ushort InternEndpoints(in DecodedPacket p, bool reversed)
    {
        EndpointPair pair = reversed
            ? new EndpointPair(p.OuterDestination, p.OuterSource, p.OuterIpVersion)
            : new EndpointPair(p.OuterSource, p.OuterDestination, p.OuterIpVersion);
        if (_endpointIndex.TryGetValue(pair, out ushort index))
        {
            return index;
        }

        if (_endpoints.Count >= ushort.MaxValue)
        {
            return ushort.MaxValue;
        }

        index = (ushort)_endpoints.Count;
        _endpoints.Add(pair);
        _endpointIndex.Add(pair, index);
        return index;
    }
}
