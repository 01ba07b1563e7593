// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Export;

/// <summary>The sensor's flow writer before FlowRecordJsonWriter (System.Text.Json's Utf8JsonWriter), kept as the baseline of flows-output.</summary>
internal sealed class LegacyFlowJsonWriter : IFlowSink, IDisposable
{
    private readonly Stream _stream;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _json;
    private readonly bool _ownsStream;
    private readonly AppMetadataTable? _metadata;
    private readonly VmIdentityTable? _vms;
    private readonly IVmStateSource? _states;

    public LegacyFlowJsonWriter(Stream stream, bool ownsStream, AppMetadataTable? metadata = null, VmIdentityTable? vms = null, IVmStateSource? states = null)
    {
        _states = states;
        _stream = stream;
        _ownsStream = ownsStream;
        _metadata = metadata;
        _vms = vms;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    public long Count { get; private set; }

    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        for (int i = 0; i < records.Length; i++)
        {
            Write(in records[i], i);
        }
    }

    public void Complete() => Flush();

    private void Write(in FlowRecord r, int index)
    {
        _json.Reset(_buffer);
        _json.WriteStartObject();
        _json.WriteString("vn_type"u8, VirtualNetworkId.KindToName(r.VnKind));
        _json.WriteNumber("vn_id"u8, r.VnId);
        _json.WriteNumber("proto"u8, r.Protocol);
        _json.WriteNumber("ip_version"u8, r.IpVersion);
        _json.WriteString("src_ip"u8, r.SourceAddress.ToString(r.IpVersion));
        _json.WriteNumber("src_port"u8, r.SourcePort);
        _json.WriteString("dst_ip"u8, r.DestinationAddress.ToString(r.IpVersion));
        _json.WriteNumber("dst_port"u8, r.DestinationPort);
        if (r.Protocol is 1 or 58)
        {
            _json.WriteNumber("icmp_id"u8, r.IcmpId);
        }

        _json.WritePropertyName("first_ts"u8);
        _json.WriteRawValue(FormatTimestamp(r.FirstNs), skipInputValidation: true);
        _json.WritePropertyName("last_ts"u8);
        _json.WriteRawValue(FormatTimestamp(r.LastNs), skipInputValidation: true);
        _json.WriteNumber("fwd_packets"u8, r.ForwardPackets);
        _json.WriteNumber("fwd_bytes"u8, r.ForwardBytes);
        _json.WriteNumber("rev_packets"u8, r.ReversePackets);
        _json.WriteNumber("rev_bytes"u8, r.ReverseBytes);
        _json.WriteNumber("fwd_payload_bytes"u8, r.ForwardPayloadBytes);
        _json.WriteNumber("rev_payload_bytes"u8, r.ReversePayloadBytes);
        _json.WriteNumber("tunnel_depth"u8, r.TunnelDepth);
        if (r.TunnelDepth > 0)
        {
            _json.WriteString("outer_src_ip"u8, r.OuterSourceAddress.ToString(r.OuterIpVersion));
            _json.WriteString("outer_dst_ip"u8, r.OuterDestinationAddress.ToString(r.OuterIpVersion));
        }

        if (r.VlanId != 0)
        {
            _json.WriteNumber("vlan"u8, r.VlanId);
        }

        if (r.Protocol == 6)
        {
            _json.WriteString("conn_state"u8, StateName(r.State));
            _json.WriteNumber("fwd_tcp_flags"u8, (byte)r.ForwardTcpFlags);
            _json.WriteNumber("rev_tcp_flags"u8, (byte)r.ReverseTcpFlags);
        }

        _json.WriteString("end_reason"u8, EndReasonName(r.EndReason));
        if (_vms is not null)
        {
            WriteVms(_vms.ForRecord(index), in r);
        }

        if (_metadata is not null)
        {
            WriteMetadata(_metadata.ForRecord(index));
        }

        _json.WriteEndObject();
        _json.Flush();
        _buffer.Write("\n"u8);
        if (_buffer.WrittenCount > (1 << 15))
        {
            Drain();
        }

        Count++;
    }

    // The VM fields of docs/flow-record.md, each only when known.
    private void WriteVms(VmIdentity v, in FlowRecord record)
    {
        WriteEnd(v.Source, v.SourceOutside, v.SourceSecondsSincePrevious, "src_"u8, in record);
        WriteEnd(v.Destination, v.DestinationOutside, v.DestinationSecondsSincePrevious, "dst_"u8, in record);
        if (v.Tenant is string tenant)
        {
            _json.WriteString("tenant"u8, tenant);
        }
    }

    private void WriteEnd(VmInfo? vm, bool outside, float gapSeconds, ReadOnlySpan<byte> prefix, in FlowRecord record)
    {
        Span<byte> name = stackalloc byte[48];
        if (vm is null)
        {
            if (outside)
            {
                _json.WriteBoolean(Name(name, prefix, "outside"u8, default), true);
            }

            return;
        }

        _json.WriteString(Name(name, prefix, "vm"u8, default), vm.Name);
        if (!float.IsNaN(gapSeconds))
        {
            _json.WriteNumber(Name(name, prefix, "vm_gap_s"u8, default), Math.Round(gapSeconds, 6));
        }

        if (_states is not null)
        {
            WriteState(vm, prefix, in record);
        }
    }

    // The VM's resource state at the flow's start (docs/flow-record.md), and at its end when a newer sample covers it.
    private void WriteState(VmInfo vm, ReadOnlySpan<byte> prefix, in FlowRecord record)
    {
        if (!_states!.TryGetState(vm.Name, record.FirstNs, out VmResourceState start))
        {
            return;
        }

        WriteStateFields(prefix, ""u8, in start);
        if (_states.TryGetState(vm.Name, record.LastNs, out VmResourceState end) && end.SampleTimeNs > start.SampleTimeNs)
        {
            WriteStateFields(prefix, "_end"u8, in end);
        }
    }

    private void WriteStateFields(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> suffix, in VmResourceState s)
    {
        Span<byte> name = stackalloc byte[48];
        if (s.Has(VmResourceFields.Cpu))
        {
            _json.WriteNumber(Name(name, prefix, "cpu"u8, suffix), Math.Round(s.CpuCores, 4));
        }

        if (s.Has(VmResourceFields.Memory))
        {
            _json.WriteNumber(Name(name, prefix, "mem_bytes"u8, suffix), s.MemoryBytes);
        }

        if (s.Has(VmResourceFields.DiskRead))
        {
            _json.WriteNumber(Name(name, prefix, "disk_read_bps"u8, suffix), Math.Round(s.DiskReadBytesPerSecond, 1));
        }

        if (s.Has(VmResourceFields.DiskWrite))
        {
            _json.WriteNumber(Name(name, prefix, "disk_write_bps"u8, suffix), Math.Round(s.DiskWriteBytesPerSecond, 1));
        }
    }

    private static ReadOnlySpan<byte> Name(Span<byte> buffer, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> field, ReadOnlySpan<byte> suffix)
    {
        prefix.CopyTo(buffer);
        field.CopyTo(buffer[prefix.Length..]);
        suffix.CopyTo(buffer[(prefix.Length + field.Length)..]);
        return buffer[..(prefix.Length + field.Length + suffix.Length)];
    }

    // The application metadata fields of docs/flow-record.md, each only when present.
    private void WriteMetadata(AppMetadata m)
    {
        if (m.App == AppProtocol.Unknown)
        {
            return;
        }

        _json.WriteString("app"u8, AppName(m.App));
        Text("dns_query"u8, m, AppField.DnsQuery);
        if (m.App == AppProtocol.Dns && m.HasDetails)
        {
            if (m.DnsQueryType != 0)
            {
                _json.WriteNumber("dns_qtype"u8, m.DnsQueryType);
            }

            if (m.DnsResponseCode >= 0)
            {
                _json.WriteNumber("dns_rcode"u8, m.DnsResponseCode);
                _json.WriteNumber("dns_answers"u8, m.DnsAnswerCount);
            }

            if (m.DnsAddressCount > 0)
            {
                _json.WriteStartArray("dns_addresses"u8);
                for (int i = 0; i < m.DnsAddressCount; i++)
                {
                    IpAddress a = m.GetDnsAddress(i, out byte ipVersion);
                    _json.WriteStringValue(a.ToString(ipVersion));
                }

                _json.WriteEndArray();
            }

            if (m.DnsQueryCount > 1)
            {
                _json.WriteNumber("dns_queries"u8, m.DnsQueryCount);
                _json.WriteNumber("dns_distinct_names"u8, m.DnsDistinctNames);
            }
        }

        Text("http_method"u8, m, AppField.HttpMethod);
        Text("http_host"u8, m, AppField.HttpHost);
        Text("http_uri"u8, m, AppField.HttpUri);
        Text("http_user_agent"u8, m, AppField.HttpUserAgent);
        if (m.HttpStatus != 0)
        {
            _json.WriteNumber("http_status"u8, m.HttpStatus);
        }

        Text("http_content_type"u8, m, AppField.HttpContentType);
        Text("tls_sni"u8, m, AppField.TlsSni);
        Text("tls_alpn"u8, m, AppField.TlsAlpn);
        int version = m.TlsVersion != 0 ? m.TlsVersion : m.TlsClientVersion;
        if (version != 0)
        {
            _json.WriteString("tls_version"u8, TlsVersionName(version));
        }

        Text("ja3"u8, m, AppField.Ja3);
        Text("ja3s"u8, m, AppField.Ja3s);
        Text("ja4"u8, m, AppField.Ja4);
        Text("ssh_client"u8, m, AppField.SshClient);
        Text("ssh_server"u8, m, AppField.SshServer);
    }

    private void Text(ReadOnlySpan<byte> name, AppMetadata m, AppField field)
    {
        ReadOnlySpan<byte> value = m.Get(field);
        if (!value.IsEmpty)
        {
            // Wire bytes are not always UTF-8: invalid sequences become U+FFFD rather than breaking the line.
            _json.WriteString(name, System.Text.Encoding.UTF8.GetString(value));
        }
    }

    internal static string AppName(AppProtocol app) => app switch
    {
        AppProtocol.Dns => "dns",
        AppProtocol.Http => "http",
        AppProtocol.Tls => "tls",
        AppProtocol.Ssh => "ssh",
        _ => "unknown",
    };

    // As Zeek's ssl.log names versions.
    internal static string TlsVersionName(int version) => version switch
    {
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        _ => string.Create(CultureInfo.InvariantCulture, $"0x{version:x4}"),
    };

    public void Flush()
    {
        Drain();
        _stream.Flush();
    }

    public void Dispose()
    {
        Flush();
        _json.Dispose();
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    private void Drain()
    {
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    internal static string FormatTimestamp(long ns)
    {
        long us = ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
        long seconds = Math.DivRem(us, 1_000_000, out long micros);
        if (micros < 0)
        {
            seconds--;
            micros += 1_000_000;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{seconds}.{micros:D6}");
    }

    internal static string EndReasonName(FlowEndReason reason) => reason switch
    {
        FlowEndReason.IdleTimeout => "idle",
        FlowEndReason.ActiveTimeout => "active",
        FlowEndReason.TcpEnd => "tcp_end",
        FlowEndReason.Evicted => "evicted",
        FlowEndReason.EndOfInput => "end_of_input",
        FlowEndReason.Reused => "reused",
        _ => "unknown",
    };

    internal static string StateName(ConnectionState state) => state switch
    {
        ConnectionState.S0 => "S0",
        ConnectionState.S1 => "S1",
        ConnectionState.SF => "SF",
        ConnectionState.Rej => "REJ",
        ConnectionState.S2 => "S2",
        ConnectionState.S3 => "S3",
        ConnectionState.Rsto => "RSTO",
        ConnectionState.Rstr => "RSTR",
        ConnectionState.Rstos0 => "RSTOS0",
        ConnectionState.Rstrh => "RSTRH",
        ConnectionState.SH => "SH",
        ConnectionState.Shr => "SHR",
        _ => "OTH",
    };
}
