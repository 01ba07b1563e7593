// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Globalization;
using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Export.Json;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Export;

/// <summary>
/// Formats flow records as JSON Lines (docs/flow-record.md), one object and a newline per record, straight into an
/// <see cref="IBufferWriter{T}"/> (an <see cref="ArrayBufferWriter{T}"/>, a <see cref="System.IO.Pipelines.PipeWriter"/>):
/// pre-encoded property names, span formatting of numbers, addresses and timestamps, one
/// <see cref="IBufferWriter{T}.GetSpan"/> and one <see cref="IBufferWriter{T}.Advance"/> per record, nothing allocated.
/// The bytes are those System.Text.Json's <see cref="System.Text.Json.Utf8JsonWriter"/> wrote for the same fields
/// (its default escaping, its number format). One writer, one thread.
/// </summary>
public sealed class FlowRecordJsonWriter
{
    // Fixed fields at their widest: names, 20-digit numbers, two timestamps, four addresses, the state fields.
    private const int FixedBound = 1024;
    private const int PerStringOverhead = 24;

    private readonly IBufferWriter<byte> _output;
    private readonly IVmStateSource? _states;

    /// <summary>Creates a writer.</summary>
    /// <param name="output">Where the lines go.</param>
    /// <param name="states">VM resource state joined to each VM end by packet time (docs/vm-state.md); null for none.</param>
    public FlowRecordJsonWriter(IBufferWriter<byte> output, IVmStateSource? states = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _states = states;
    }

    /// <summary>Records written.</summary>
    public long Count { get; private set; }

    /// <summary>Writes one record without VM or application context.</summary>
    /// <param name="record">The record.</param>
    public void Write(in FlowRecord record) => Write(in record, default, default);

    /// <summary>Writes one record with its VMs (<see cref="VmIdentityTable.ForRecord"/>) and application metadata (<see cref="AppMetadataTable.ForRecord"/>).</summary>
    /// <param name="record">The record.</param>
    /// <param name="vms">Its VM ends; default for none.</param>
    /// <param name="metadata">Its application metadata; default for none.</param>
    public void Write(in FlowRecord record, in VmIdentity vms, in AppMetadata metadata)
    {
        Span<byte> dst = _output.GetSpan(Bound(in vms, in metadata));
        int pos = 0;
        WriteFixed(dst, ref pos, in record);
        WriteVms(dst, ref pos, in vms, in record);
        if (metadata.App != AppProtocol.Unknown)
        {
            WriteMetadata(dst, ref pos, in metadata);
        }

        dst[pos++] = (byte)'}';
        dst[pos++] = (byte)'\n';
        _output.Advance(pos);
        Count++;
    }

    private static int Bound(in VmIdentity vms, in AppMetadata metadata)
    {
        int bound = FixedBound;
        if (vms.Source is VmInfo s)
        {
            bound += (s.Name.Length * Utf8Text.EscapeExpansion) + PerStringOverhead;
        }

        if (vms.Destination is VmInfo d)
        {
            bound += (d.Name.Length * Utf8Text.EscapeExpansion) + PerStringOverhead;
        }

        if (vms.Tenant is string t)
        {
            bound += (t.Length * Utf8Text.EscapeExpansion) + PerStringOverhead;
        }

        if (metadata.App != AppProtocol.Unknown)
        {
            bound += 512 + (metadata.DnsAddressCount * (Utf8Text.MaxIpBytes + 3));
            for (AppField f = 0; f <= AppField.SshServer; f++)
            {
                bound += (metadata.Get(f).Length * Utf8Text.EscapeExpansion) + PerStringOverhead;
            }
        }

        return bound;
    }

    private static void WriteFixed(Span<byte> dst, ref int pos, in FlowRecord r)
    {
        Utf8Text.Raw(dst, ref pos, "{\"vn_type\":\""u8);
        Utf8Text.Raw(dst, ref pos, KindName(r.VnKind));
        Utf8Text.Raw(dst, ref pos, "\",\"vn_id\":"u8);
        Utf8Text.UInt(dst, ref pos, r.VnId);
        Utf8Text.Raw(dst, ref pos, ",\"proto\":"u8);
        Utf8Text.UInt(dst, ref pos, r.Protocol);
        Utf8Text.Raw(dst, ref pos, ",\"ip_version\":"u8);
        Utf8Text.UInt(dst, ref pos, r.IpVersion);
        Utf8Text.Raw(dst, ref pos, ",\"src_ip\":\""u8);
        Utf8Text.Ip(dst, ref pos, in r.SourceAddress, r.IpVersion);
        Utf8Text.Raw(dst, ref pos, "\",\"src_port\":"u8);
        Utf8Text.UInt(dst, ref pos, r.SourcePort);
        Utf8Text.Raw(dst, ref pos, ",\"dst_ip\":\""u8);
        Utf8Text.Ip(dst, ref pos, in r.DestinationAddress, r.IpVersion);
        Utf8Text.Raw(dst, ref pos, "\",\"dst_port\":"u8);
        Utf8Text.UInt(dst, ref pos, r.DestinationPort);
        if (r.Protocol is 1 or 58)
        {
            Utf8Text.Raw(dst, ref pos, ",\"icmp_id\":"u8);
            Utf8Text.UInt(dst, ref pos, r.IcmpId);
        }

        Utf8Text.Raw(dst, ref pos, ",\"first_ts\":"u8);
        Utf8Text.Timestamp(dst, ref pos, r.FirstNs);
        Utf8Text.Raw(dst, ref pos, ",\"last_ts\":"u8);
        Utf8Text.Timestamp(dst, ref pos, r.LastNs);
        Utf8Text.Raw(dst, ref pos, ",\"fwd_packets\":"u8);
        Utf8Text.UInt(dst, ref pos, r.ForwardPackets);
        Utf8Text.Raw(dst, ref pos, ",\"fwd_bytes\":"u8);
        Utf8Text.UInt(dst, ref pos, r.ForwardBytes);
        Utf8Text.Raw(dst, ref pos, ",\"rev_packets\":"u8);
        Utf8Text.UInt(dst, ref pos, r.ReversePackets);
        Utf8Text.Raw(dst, ref pos, ",\"rev_bytes\":"u8);
        Utf8Text.UInt(dst, ref pos, r.ReverseBytes);
        Utf8Text.Raw(dst, ref pos, ",\"fwd_payload_bytes\":"u8);
        Utf8Text.UInt(dst, ref pos, r.ForwardPayloadBytes);
        Utf8Text.Raw(dst, ref pos, ",\"rev_payload_bytes\":"u8);
        Utf8Text.UInt(dst, ref pos, r.ReversePayloadBytes);
        Utf8Text.Raw(dst, ref pos, ",\"tunnel_depth\":"u8);
        Utf8Text.UInt(dst, ref pos, r.TunnelDepth);
        if (r.TunnelDepth > 0)
        {
            Utf8Text.Raw(dst, ref pos, ",\"outer_src_ip\":\""u8);
            Utf8Text.Ip(dst, ref pos, in r.OuterSourceAddress, r.OuterIpVersion);
            Utf8Text.Raw(dst, ref pos, "\",\"outer_dst_ip\":\""u8);
            Utf8Text.Ip(dst, ref pos, in r.OuterDestinationAddress, r.OuterIpVersion);
            Utf8Text.Byte(dst, ref pos, (byte)'"');
        }

        if (r.VlanId != 0)
        {
            Utf8Text.Raw(dst, ref pos, ",\"vlan\":"u8);
            Utf8Text.UInt(dst, ref pos, r.VlanId);
        }

        if (r.Protocol == 6)
        {
            Utf8Text.Raw(dst, ref pos, ",\"conn_state\":\""u8);
            Utf8Text.Raw(dst, ref pos, StateName(r.State));
            Utf8Text.Raw(dst, ref pos, "\",\"fwd_tcp_flags\":"u8);
            Utf8Text.UInt(dst, ref pos, (byte)r.ForwardTcpFlags);
            Utf8Text.Raw(dst, ref pos, ",\"rev_tcp_flags\":"u8);
            Utf8Text.UInt(dst, ref pos, (byte)r.ReverseTcpFlags);
        }

        Utf8Text.Raw(dst, ref pos, ",\"end_reason\":\""u8);
        Utf8Text.Raw(dst, ref pos, EndReasonName(r.EndReason));
        Utf8Text.Byte(dst, ref pos, (byte)'"');
    }

    // The VM fields of docs/flow-record.md, each only when known.
    private void WriteVms(Span<byte> dst, ref int pos, in VmIdentity v, in FlowRecord record)
    {
        WriteEnd(dst, ref pos, v.Source, v.SourceOutside, v.SourceSecondsSincePrevious, source: true, in record);
        WriteEnd(dst, ref pos, v.Destination, v.DestinationOutside, v.DestinationSecondsSincePrevious, source: false, in record);
        if (v.Tenant is string tenant)
        {
            Utf8Text.Raw(dst, ref pos, ",\"tenant\":"u8);
            Utf8Text.String(dst, ref pos, tenant);
        }
    }

    private void WriteEnd(Span<byte> dst, ref int pos, VmInfo? vm, bool outside, float gapSeconds, bool source, in FlowRecord record)
    {
        if (vm is null)
        {
            if (outside)
            {
                Utf8Text.Raw(dst, ref pos, source ? ",\"src_outside\":true"u8 : ",\"dst_outside\":true"u8);
            }

            return;
        }

        Utf8Text.Raw(dst, ref pos, source ? ",\"src_vm\":"u8 : ",\"dst_vm\":"u8);
        Utf8Text.String(dst, ref pos, vm.Name);
        if (!float.IsNaN(gapSeconds))
        {
            Utf8Text.Raw(dst, ref pos, source ? ",\"src_vm_gap_s\":"u8 : ",\"dst_vm_gap_s\":"u8);
            Utf8Text.Rounded(dst, ref pos, gapSeconds, 6);
        }

        if (_states is not null && _states.TryGetState(vm.Name, record.FirstNs, out VmResourceState start))
        {
            // The state at the flow's start, and at its end when a newer sample covers it.
            WriteState(dst, ref pos, source ? StartNames.Source : StartNames.Destination, in start);
            if (_states.TryGetState(vm.Name, record.LastNs, out VmResourceState end) && end.SampleTimeNs > start.SampleTimeNs)
            {
                WriteState(dst, ref pos, source ? EndNames.Source : EndNames.Destination, in end);
            }
        }
    }

    private static void WriteState(Span<byte> dst, ref int pos, StateNames names, in VmResourceState s)
    {
        if (s.Has(VmResourceFields.Cpu))
        {
            Utf8Text.Raw(dst, ref pos, names.Cpu);
            Utf8Text.Rounded(dst, ref pos, s.CpuCores, 4);
        }

        if (s.Has(VmResourceFields.Memory))
        {
            Utf8Text.Raw(dst, ref pos, names.Memory);
            Utf8Text.Int(dst, ref pos, s.MemoryBytes);
        }

        if (s.Has(VmResourceFields.DiskRead))
        {
            Utf8Text.Raw(dst, ref pos, names.DiskRead);
            Utf8Text.Rounded(dst, ref pos, s.DiskReadBytesPerSecond, 1);
        }

        if (s.Has(VmResourceFields.DiskWrite))
        {
            Utf8Text.Raw(dst, ref pos, names.DiskWrite);
            Utf8Text.Rounded(dst, ref pos, s.DiskWriteBytesPerSecond, 1);
        }
    }

    // The application metadata fields of docs/flow-record.md, each only when present.
    private static void WriteMetadata(Span<byte> dst, ref int pos, in AppMetadata m)
    {
        Utf8Text.Raw(dst, ref pos, ",\"app\":\""u8);
        Utf8Text.Raw(dst, ref pos, AppName(m.App));
        Utf8Text.Byte(dst, ref pos, (byte)'"');
        Text(dst, ref pos, ",\"dns_query\":"u8, in m, AppField.DnsQuery);
        if (m.App == AppProtocol.Dns && m.HasDetails)
        {
            if (m.DnsQueryType != 0)
            {
                Utf8Text.Raw(dst, ref pos, ",\"dns_qtype\":"u8);
                Utf8Text.Int(dst, ref pos, m.DnsQueryType);
            }

            if (m.DnsResponseCode >= 0)
            {
                Utf8Text.Raw(dst, ref pos, ",\"dns_rcode\":"u8);
                Utf8Text.Int(dst, ref pos, m.DnsResponseCode);
                Utf8Text.Raw(dst, ref pos, ",\"dns_answers\":"u8);
                Utf8Text.Int(dst, ref pos, m.DnsAnswerCount);
            }

            if (m.DnsAddressCount > 0)
            {
                Utf8Text.Raw(dst, ref pos, ",\"dns_addresses\":["u8);
                for (int i = 0; i < m.DnsAddressCount; i++)
                {
                    IpAddress a = m.GetDnsAddress(i, out byte ipVersion);
                    Utf8Text.Raw(dst, ref pos, i == 0 ? "\""u8 : ",\""u8);
                    Utf8Text.Ip(dst, ref pos, in a, ipVersion);
                    Utf8Text.Byte(dst, ref pos, (byte)'"');
                }

                Utf8Text.Byte(dst, ref pos, (byte)']');
            }

            if (m.DnsQueryCount > 1)
            {
                Utf8Text.Raw(dst, ref pos, ",\"dns_queries\":"u8);
                Utf8Text.Int(dst, ref pos, m.DnsQueryCount);
                Utf8Text.Raw(dst, ref pos, ",\"dns_distinct_names\":"u8);
                Utf8Text.Int(dst, ref pos, m.DnsDistinctNames);
            }
        }

        Text(dst, ref pos, ",\"http_method\":"u8, in m, AppField.HttpMethod);
        Text(dst, ref pos, ",\"http_host\":"u8, in m, AppField.HttpHost);
        Text(dst, ref pos, ",\"http_uri\":"u8, in m, AppField.HttpUri);
        Text(dst, ref pos, ",\"http_user_agent\":"u8, in m, AppField.HttpUserAgent);
        if (m.HttpStatus != 0)
        {
            Utf8Text.Raw(dst, ref pos, ",\"http_status\":"u8);
            Utf8Text.Int(dst, ref pos, m.HttpStatus);
        }

        Text(dst, ref pos, ",\"http_content_type\":"u8, in m, AppField.HttpContentType);
        Text(dst, ref pos, ",\"tls_sni\":"u8, in m, AppField.TlsSni);
        Text(dst, ref pos, ",\"tls_alpn\":"u8, in m, AppField.TlsAlpn);
        int version = m.TlsVersion != 0 ? m.TlsVersion : m.TlsClientVersion;
        if (version != 0)
        {
            Utf8Text.Raw(dst, ref pos, ",\"tls_version\":\""u8);
            TlsVersionName(dst, ref pos, version);
            Utf8Text.Byte(dst, ref pos, (byte)'"');
        }

        Text(dst, ref pos, ",\"ja3\":"u8, in m, AppField.Ja3);
        Text(dst, ref pos, ",\"ja3s\":"u8, in m, AppField.Ja3s);
        Text(dst, ref pos, ",\"ja4\":"u8, in m, AppField.Ja4);
        Text(dst, ref pos, ",\"ssh_client\":"u8, in m, AppField.SshClient);
        Text(dst, ref pos, ",\"ssh_server\":"u8, in m, AppField.SshServer);
    }

    private static void Text(Span<byte> dst, ref int pos, ReadOnlySpan<byte> name, in AppMetadata m, AppField field)
    {
        ReadOnlySpan<byte> value = m.Get(field);
        if (!value.IsEmpty)
        {
            // Wire bytes are not always UTF-8: invalid sequences become U+FFFD rather than breaking the line.
            Utf8Text.Raw(dst, ref pos, name);
            Utf8Text.StringUtf8(dst, ref pos, value);
        }
    }

    // As Zeek's ssl.log names versions.
    private static void TlsVersionName(Span<byte> dst, ref int pos, int version)
    {
        ReadOnlySpan<byte> name = version switch
        {
            0x0300 => "SSLv3"u8,
            0x0301 => "TLSv10"u8,
            0x0302 => "TLSv11"u8,
            0x0303 => "TLSv12"u8,
            0x0304 => "TLSv13"u8,
            _ => default,
        };
        if (!name.IsEmpty)
        {
            Utf8Text.Raw(dst, ref pos, name);
            return;
        }

        Utf8Text.Raw(dst, ref pos, "0x"u8);
        version.TryFormat(dst[pos..], out int n, "x4", CultureInfo.InvariantCulture);
        pos += n;
    }

    private static ReadOnlySpan<byte> KindName(VirtualNetworkKind kind) => kind switch
    {
        VirtualNetworkKind.Vlan => "vlan"u8,
        VirtualNetworkKind.Vxlan => "vxlan"u8,
        VirtualNetworkKind.Geneve => "geneve"u8,
        VirtualNetworkKind.Gre => "gre"u8,
        _ => "none"u8,
    };

    private static ReadOnlySpan<byte> AppName(AppProtocol app) => app switch
    {
        AppProtocol.Dns => "dns"u8,
        AppProtocol.Http => "http"u8,
        AppProtocol.Tls => "tls"u8,
        AppProtocol.Ssh => "ssh"u8,
        _ => "unknown"u8,
    };

    private static ReadOnlySpan<byte> EndReasonName(FlowEndReason reason) => reason switch
    {
        FlowEndReason.IdleTimeout => "idle"u8,
        FlowEndReason.ActiveTimeout => "active"u8,
        FlowEndReason.TcpEnd => "tcp_end"u8,
        FlowEndReason.Evicted => "evicted"u8,
        FlowEndReason.EndOfInput => "end_of_input"u8,
        FlowEndReason.Reused => "reused"u8,
        _ => "unknown"u8,
    };

    private static ReadOnlySpan<byte> StateName(ConnectionState state) => state switch
    {
        ConnectionState.S0 => "S0"u8,
        ConnectionState.S1 => "S1"u8,
        ConnectionState.SF => "SF"u8,
        ConnectionState.Rej => "REJ"u8,
        ConnectionState.S2 => "S2"u8,
        ConnectionState.S3 => "S3"u8,
        ConnectionState.Rsto => "RSTO"u8,
        ConnectionState.Rstr => "RSTR"u8,
        ConnectionState.Rstos0 => "RSTOS0"u8,
        ConnectionState.Rstrh => "RSTRH"u8,
        ConnectionState.SH => "SH"u8,
        ConnectionState.Shr => "SHR"u8,
        _ => "OTH"u8,
    };

    // Pre-encoded names of the state fields, per end and per time (start, end).
    private sealed class StateNames(string prefix, string suffix)
    {
        public byte[] Cpu { get; } = Name(prefix, "cpu", suffix);

        public byte[] Memory { get; } = Name(prefix, "mem_bytes", suffix);

        public byte[] DiskRead { get; } = Name(prefix, "disk_read_bps", suffix);

        public byte[] DiskWrite { get; } = Name(prefix, "disk_write_bps", suffix);

        private static byte[] Name(string prefix, string field, string suffix) => System.Text.Encoding.ASCII.GetBytes($",\"{prefix}{field}{suffix}\":");
    }

    private static class StartNames
    {
        public static readonly StateNames Source = new("src_", string.Empty);
        public static readonly StateNames Destination = new("dst_", string.Empty);
    }

    private static class EndNames
    {
        public static readonly StateNames Source = new("src_", "_end");
        public static readonly StateNames Destination = new("dst_", "_end");
    }
}
