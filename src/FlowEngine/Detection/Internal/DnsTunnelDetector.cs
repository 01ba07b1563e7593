// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Detection.Internal;

/// <summary>
/// DNS tunnels, per client and registered domain (whichever resolver carries them): many unique names under one
/// domain that are mostly encoded or mostly TXT/NULL/MX/CNAME queries, or long subdomains on average; and one
/// encoded subdomain long enough to carry data on its own (exfiltration in a name).
/// </summary>
internal sealed class DnsTunnelDetector(ClassifierOptions options)
{
    private readonly DnsTunnelOptions _o = options.DnsTunnel;
    private readonly double _factor = options.BaselineFactor, _alpha = options.BaselineAlpha;
    private readonly long _windowNs = options.DnsTunnel.Window.Ticks * 100;
    private readonly BoundedTable<DomainKey, Counts> _byDomain = new(options.MaxKeys);

    public long Evicted => _byDomain.Evicted;

    /// <param name="r">The record.</param>
    /// <param name="m">Its application metadata.</param>
    /// <param name="shape">The shape of its (first) query name, computed once by the caller.</param>
    /// <param name="nowNs">Packet time.</param>
    /// <param name="verdict">The flow's verdict.</param>
    public void Observe(in FlowRecord r, in AppMetadata m, in DnsNameShape shape, long nowNs, ref Verdict verdict)
    {
        if (m.App != AppProtocol.Dns || shape.Length == 0)
        {
            return;
        }

        // Metadata parses a flow's first packets only: over UDP every packet from the client is a query, and the share
        // of distinct names among the parsed ones stands for the rest.
        int parsed = Math.Max(1, m.DnsQueryCount);
        double distinctShare = Math.Min(1, Math.Max(1, m.DnsDistinctNames) / (double)parsed);
        int queries = r.Protocol == IpProtocol.Udp ? (int)Math.Max(parsed, Math.Min(r.ForwardPackets, 1_000_000)) : parsed;
        int names = Math.Max(1, (int)Math.Round(queries * distinctShare));
        bool dataType = m.DnsQueryType is 10 or 16 or 15 or 5; // NULL, TXT, MX, CNAME

        // Per registered domain, and per client over every domain (tunnels that put data in the last labels too).
        Judge(new DomainKey(r.VirtualNetwork, r.SourceAddress, shape.DomainHash), in r, in shape, queries, names, dataType, nowNs, ref verdict);
        Judge(new DomainKey(r.VirtualNetwork, r.SourceAddress, 0), in r, in shape, queries, names, dataType, nowNs, ref verdict);
    }

    private void Judge(DomainKey key, in FlowRecord r, in DnsNameShape shape, int queries, int names, bool dataType, long nowNs, ref Verdict verdict)
    {
        ref Counts c = ref _byDomain.GetOrAdd(key, nowNs, out _);
        if (c.Window.Roll(nowNs, _windowNs, c.Unique.Estimate + c.ExtraNames, _alpha))
        {
            c = c with { Unique = default, ExtraNames = 0, Names = 0, Encoded = 0, DataTypes = 0, Queries = 0, SubdomainChars = 0 };
        }

        // A flow with many queries (one client port) counts its distinct names; the first one stands for its shape.
        c.Unique.Add(shape.NameHash);
        c.ExtraNames += names - 1;
        c.Names += names;
        c.Encoded += shape.Encoded ? names : 0;
        c.DataTypes += dataType ? queries : 0;
        c.Queries += queries;
        c.SubdomainChars += (long)shape.SubdomainLength * names;

        bool single = shape.Encoded && shape.SubdomainLength >= _o.LongSubdomain;
        double unique = c.Unique.Estimate + c.ExtraNames;
        double threshold = c.Window.Threshold(_o.MinUniqueNames, _factor);
        double encodedShare = c.Encoded / (double)c.Names, dataShare = c.DataTypes / (double)Math.Max(1, c.Queries);
        double meanSubdomain = c.SubdomainChars / (double)c.Names;
        // The window decides that a tunnel runs; the flow itself must look like one of its queries to be named so.
        bool shaped = shape.Encoded || dataType || shape.SubdomainLength >= _o.MeanSubdomain;
        bool many = shaped && unique >= threshold && (encodedShare >= _o.MinShare || dataShare >= _o.MinShare || meanSubdomain >= _o.MeanSubdomain);
        if (!many && !single)
        {
            return;
        }

        c.Window.Alerted |= many;
        double confidence = many ? 0.7 + (0.1 * encodedShare) + (0.1 * Math.Min(1, unique / (4 * threshold))) : 0.6;
        if (verdict.Offer(AttackClass.DnsTunnel, confidence, r.DestinationAddress, true))
        {
            verdict.TargetIsDomain = key.Domain != 0;
            verdict.Add(many ? "dns_tunnel.unique_names" : "dns_tunnel.long_encoded_subdomain", many ? Math.Round(unique, 1) : shape.SubdomainLength, many ? threshold : _o.LongSubdomain);
            verdict.Add("dns_tunnel.encoded_share", Math.Round(encodedShare, 3), _o.MinShare);
            verdict.Add("dns_tunnel.data_type_share", Math.Round(dataShare, 3), _o.MinShare);
            verdict.Add("dns_tunnel.mean_subdomain", Math.Round(meanSubdomain, 1), _o.MeanSubdomain);
        }
    }

    private readonly record struct DomainKey(VirtualNetworkId Network, IpAddress Client, ulong Domain);

    private struct Counts
    {
        public WindowLevel Window;
        public DistinctCounter Unique;
        public int ExtraNames;
        public int Names;
        public int Encoded;
        public int DataTypes;
        public long Queries;
        public long SubdomainChars;
    }
}
