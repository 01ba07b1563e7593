// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.IO.Hashing;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Detection.Internal;

/// <summary>Facts about one record that several detectors ask for, computed the same way for all.</summary>
internal static class FlowFacts
{
    /// <summary>A deterministic 64-bit hash of an address (the same in every process, unlike <see cref="IpAddress.GetHashCode"/>): the profiles' address key.</summary>
    public static ulong Hash(IpAddress address)
    {
        Span<byte> label = stackalloc byte[17];
        return ProfileStore.AddressKey(address, 0, label);
    }

    /// <summary>A deterministic hash of a port (or an address and a port).</summary>
    public static ulong Hash(ulong value) => XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in value)));

    /// <summary>
    /// A connection attempt that got nowhere: TCP without payload either way (no answer, refused, or reset after
    /// the handshake), UDP and ICMP without any answer.
    /// </summary>
    public static bool Failed(in FlowRecord r) => r.Protocol switch
    {
        IpProtocol.Tcp => r.ForwardPayloadBytes == 0 && r.ReversePayloadBytes == 0,
        _ => r.ReversePackets == 0,
    };

    /// <summary>TCP whose originator opened (SYN) and never completed a data exchange.</summary>
    public static bool HalfOpen(in FlowRecord r) =>
        r.Protocol == IpProtocol.Tcp && (r.ForwardTcpFlags & TcpFlags.Syn) != 0 && r.ForwardPayloadBytes == 0 && r.ReversePayloadBytes == 0;

    /// <summary>
    /// A victim's answer seen without its question (backscatter): TCP whose originator only sent SYN-ACK or RST and
    /// got nothing back.
    /// </summary>
    public static bool ResponseOnly(in FlowRecord r) =>
        r.Protocol == IpProtocol.Tcp && r.ReversePackets == 0 && r.ForwardPayloadBytes == 0
        && ((r.ForwardTcpFlags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack) || (r.ForwardTcpFlags & (TcpFlags.Rst | TcpFlags.Syn)) == TcpFlags.Rst);

    /// <summary>TCP probes that no stack sends in normal use: NULL (no flags), FIN without SYN, XMAS (FIN, PSH, URG).</summary>
    public static bool StealthProbe(in FlowRecord r, out string kind)
    {
        kind = string.Empty;
        if (r.Protocol != IpProtocol.Tcp || r.ForwardPackets == 0 || r.ForwardPayloadBytes != 0 || (r.ForwardTcpFlags & TcpFlags.Syn) != 0)
        {
            return false;
        }

        TcpFlags f = r.ForwardTcpFlags & ~(TcpFlags.Ece | TcpFlags.Cwr);
        kind = f switch
        {
            TcpFlags.None => "scan.null_probe",
            TcpFlags.Fin => "scan.fin_probe",
            TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Urg => "scan.xmas_probe",
            _ => string.Empty,
        };
        return kind.Length > 0;
    }

    /// <summary>ICMP (v4 or v6) echo request.</summary>
    public static bool EchoRequest(in FlowRecord r) =>
        (r.Protocol == IpProtocol.Icmp && r.SourcePort == 8) || (r.Protocol == IpProtocol.IcmpV6 && r.SourcePort == 128);

    /// <summary>Private, shared or unique-local address space (RFC 1918, RFC 6598, RFC 4193), where internal hosts live.</summary>
    public static bool IsPrivate(IpAddress address, byte ipVersion)
    {
        Span<byte> b = stackalloc byte[16];
        address.WriteBytes(b);
        return ipVersion == 4
            ? b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xC0) == 64)
            : (b[0] & 0xFE) == 0xFC;
    }
}
