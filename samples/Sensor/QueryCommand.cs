// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FlowEngine.AppLayer;
using FlowEngine.Archive;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Sensor;

/// <summary>
/// <c>query ARCHIVE-DIR [filters]</c>: the archived flows that match, as JSON Lines in the layout of the <c>flows</c>
/// command (plus score and alert when archived), streamed frame by frame through the archive's index.
/// </summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var archiveArgument = new Argument<DirectoryInfo>("archive") { Description = "The archive directory (written by flows --archive or an ArchiveWriter)." };
        var fromOption = new Option<string?>("--from") { Description = "Flows whose last packet is at or after this time: Unix seconds (1700000000.5) or ISO 8601 (UTC unless it says otherwise)." };
        var toOption = new Option<string?>("--to") { Description = "Flows whose first packet is at or before this time." };
        var vmOption = new Option<string?>("--vm") { Description = "Flows with this VM (name) at either end." };
        var vniOption = new Option<uint?>("--vni") { Description = "Flows in this virtual network (VNI, VLAN id or GRE key)." };
        var ipOption = new Option<string?>("--ip") { Description = "Flows with either end in this address or CIDR block (10.0.0.0/24, fd00::/64)." };
        var portOption = new Option<ushort?>("--port") { Description = "Flows with this port at either end." };
        var protoOption = new Option<string?>("--proto") { Description = "tcp, udp, icmp, icmp6, sctp or an IP protocol number." };
        var appOption = new Option<string?>("--app") { Description = "dns, http, tls, ssh or unknown." };
        var alertOption = new Option<bool>("--alert") { Description = "Only flows that raised an alert." };
        var jsonOption = new Option<bool>("--json") { Description = "JSON Lines output (the default and only format)." };
        var outOption = new Option<FileInfo?>("--out") { Description = "Write to this file instead of stdout." };
        var command = new Command("query", "Read the flows of an archive that match the filters, as JSON Lines.")
        {
            archiveArgument, fromOption, toOption, vmOption, vniOption, ipOption, portOption, protoOption, appOption, alertOption, jsonOption, outOption,
        };
        command.SetAction(parse =>
        {
            var query = new ArchiveQuery
            {
                Vm = parse.GetValue(vmOption),
                Vni = parse.GetValue(vniOption),
                Port = parse.GetValue(portOption),
                AlertsOnly = parse.GetValue(alertOption),
            };
            try
            {
                query.FromNs = parse.GetValue(fromOption) is string from ? ArchiveQuery.ParseTime(from) : null;
                query.ToNs = parse.GetValue(toOption) is string to ? ArchiveQuery.ParseTime(to) : null;
                if (parse.GetValue(ipOption) is string ip)
                {
                    query.SetNetwork(ip);
                }

                query.Protocol = parse.GetValue(protoOption) is string proto ? ParseProtocol(proto) : null;
                query.App = parse.GetValue(appOption) is string app ? ParseApp(app) : null;
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }

            ArchiveReader reader;
            try
            {
                reader = new ArchiveReader(parse.GetValue(archiveArgument)!.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }

            foreach (ArchiveIssue issue in reader.Issues)
            {
                Console.Error.WriteLine($"warning: {issue}");
            }

            reader.IssueFound = issue => Console.Error.WriteLine($"warning: {issue}");
            FileInfo? outFile = parse.GetValue(outOption);
            using Stream output = outFile is null ? Console.OpenStandardOutput() : outFile.Create();
            using var writer = new ArchivedFlowJsonWriter(output);
            using ArchiveCursor cursor = reader.OpenCursor(query);
            long count = 0;
            while (cursor.MoveNext())
            {
                writer.Write(cursor.Current);
                count++;
            }

            writer.Flush();
            Console.Error.WriteLine(
                $"{count} flows from {reader.SegmentCount} segments; {cursor.FramesRead} of {reader.FrameCount} frames read, {cursor.FramesSkipped} skipped by the index; {reader.Issues.Count} issues");
            return reader.Issues.Count == 0 ? 0 : 1;
        });
        return command;
    }

    internal static byte ParseProtocol(string text) => text.ToLowerInvariant() switch
    {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "icmp6" or "ipv6-icmp" => 58,
        "sctp" => 132,
        _ when byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out byte n) => n,
        _ => throw new FormatException($"--proto '{text}': tcp, udp, icmp, icmp6, sctp or a number 0-255"),
    };

    internal static AppProtocol ParseApp(string text) => text.ToLowerInvariant() switch
    {
        "dns" => AppProtocol.Dns,
        "http" => AppProtocol.Http,
        "tls" => AppProtocol.Tls,
        "ssh" => AppProtocol.Ssh,
        "unknown" or "none" => AppProtocol.Unknown,
        _ => throw new FormatException($"--app '{text}': dns, http, tls, ssh or unknown"),
    };
}

/// <summary>Writes archived flows as JSON Lines, field for field as <see cref="FlowJsonWriter"/> writes live ones.</summary>
internal sealed class ArchivedFlowJsonWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _json;

    public ArchivedFlowJsonWriter(Stream stream)
    {
        _stream = stream;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    public void Write(ArchivedFlow flow)
    {
        FlowRecord r = flow.Record;
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
        _json.WriteRawValue(FlowJsonNames.FormatTimestamp(r.FirstNs), skipInputValidation: true);
        _json.WritePropertyName("last_ts"u8);
        _json.WriteRawValue(FlowJsonNames.FormatTimestamp(r.LastNs), skipInputValidation: true);
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
            _json.WriteString("conn_state"u8, FlowJsonNames.StateName(r.State));
            _json.WriteNumber("fwd_tcp_flags"u8, (byte)r.ForwardTcpFlags);
            _json.WriteNumber("rev_tcp_flags"u8, (byte)r.ReverseTcpFlags);
        }

        _json.WriteString("end_reason"u8, FlowJsonNames.EndReasonName(r.EndReason));
        WriteEnd(flow.SourceVm, flow.SourceOutside, flow.SourceGapSeconds, "src_outside"u8, "src_vm"u8, "src_vm_gap_s"u8);
        WriteEnd(flow.DestinationVm, flow.DestinationOutside, flow.DestinationGapSeconds, "dst_outside"u8, "dst_vm"u8, "dst_vm_gap_s"u8);
        if (flow.Tenant is string tenant)
        {
            _json.WriteString("tenant"u8, tenant);
        }

        if (flow.Metadata is ArchivedAppMetadata metadata)
        {
            WriteMetadata(metadata.View);
        }

        if (flow.Score is double score)
        {
            _json.WriteNumber("score"u8, score);
        }

        if (flow.AlertClass != AttackClass.None)
        {
            _json.WriteString("alert_class"u8, flow.AlertClass.ToName());
        }

        if (flow.IsAlert)
        {
            _json.WriteBoolean("alert"u8, true);
        }

        _json.WriteEndObject();
        _json.Flush();
        _buffer.Write("\n"u8);
        if (_buffer.WrittenCount > (1 << 15))
        {
            Drain();
        }
    }

    private void WriteEnd(string? vm, bool outside, float? gap, ReadOnlySpan<byte> outsideName, ReadOnlySpan<byte> vmName, ReadOnlySpan<byte> gapName)
    {
        if (vm is null)
        {
            if (outside)
            {
                _json.WriteBoolean(outsideName, true);
            }

            return;
        }

        _json.WriteString(vmName, vm);
        if (gap is float g)
        {
            _json.WriteNumber(gapName, Math.Round(g, 6));
        }
    }

    private void WriteMetadata(AppMetadata m)
    {
        if (m.App == AppProtocol.Unknown)
        {
            return;
        }

        _json.WriteString("app"u8, FlowJsonNames.AppName(m.App));
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
            _json.WriteString("tls_version"u8, FlowJsonNames.TlsVersionName(version));
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
            _json.WriteString(name, System.Text.Encoding.UTF8.GetString(value));
        }
    }

    public void Flush()
    {
        Drain();
        _stream.Flush();
    }

    public void Dispose() => _json.Dispose();

    private void Drain()
    {
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }
}

/// <summary>The names the flow JSON uses for enum values and timestamps, for writers that build it field by field.</summary>
internal static class FlowJsonNames
{
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
