// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Sensor;

/// <summary>Writes flow records as JSON Lines: the sensor's stable output contract (see README).</summary>
internal sealed class FlowJsonWriter : IFlowSink, IDisposable
{
    private readonly Stream _stream;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _json;
    private readonly bool _ownsStream;

    public FlowJsonWriter(Stream stream, bool ownsStream)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    public long Count { get; private set; }

    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        foreach (ref readonly FlowRecord r in records)
        {
            Write(in r);
        }
    }

    public void Complete() => Flush();

    private void Write(in FlowRecord r)
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
        _json.WriteEndObject();
        _json.Flush();
        _buffer.Write("\n"u8);
        if (_buffer.WrittenCount > (1 << 15))
        {
            Drain();
        }

        Count++;
    }

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
