// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PacketDotNet;
using SharpPcap;
using SharpPcap.LibPcap;

namespace SharpPcapBaseline;

/// <summary>
/// The baseline of the issue 5 peer harness: flows counted the way a .NET developer would write it with SharpPcap
/// and PacketDotNet. <see cref="CaptureFileReaderDevice"/> reads the file, PacketDotNet parses each packet, VXLAN
/// (which PacketDotNet parses on UDP port 4789) is unwrapped to the tenant's packet, and a <see cref="Dictionary{TKey, TValue}"/>
/// keyed by VNI and bidirectional 5-tuple holds per-flow counters. No tuning: this is the reference point, not a
/// competitor.
/// </summary>
public static class Program
{
    /// <summary>Reads the capture and prints the counts (and one JSON line with --json).</summary>
    /// <param name="args">CAPTURE [--json].</param>
    /// <returns>Exit code.</returns>
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("usage: SharpPcapBaseline CAPTURE [--json]");
            return 2;
        }

        var flows = new Dictionary<FlowKey, FlowStats>();
        long packets = 0;
        long skipped = 0;
        var stopwatch = Stopwatch.StartNew();
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        using (var device = new CaptureFileReaderDevice(args[0]))
        {
            device.Open();
            device.OnPacketArrival += (sender, e) =>
            {
                packets++;
                RawCapture raw = e.GetPacket();
                Packet packet = Packet.ParsePacket(raw.LinkLayerType, raw.Data);
                if (!Account(flows, packet, raw.Timeval.Date, raw.PacketLength))
                {
                    skipped++;
                }
            };
            device.Capture();
        }

        double wall = stopwatch.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        int withoutVni = flows.Keys.Select(k => k with { Vni = -1 }).Distinct().Count();
        Console.WriteLine($"sharppcap {args[0]}: {packets} packets ({skipped} not IP TCP/UDP), {flows.Count} flows ({withoutVni} without the VNI), {wall:F2} s wall, {cpu:F2} s CPU");
        if (args.Contains("--json"))
        {
            var result = new Dictionary<string, object>
            {
                ["tool"] = "sharppcap",
                ["capture"] = args[0],
                ["packets"] = packets,
                ["skipped"] = skipped,
                ["distinct_flows"] = flows.Count,
                ["distinct_flows_without_vn"] = withoutVni,
                ["wall_s"] = wall,
                ["cpu_s"] = cpu,
            };
            Console.WriteLine(JsonSerializer.Serialize(result));
        }

        return 0;
    }

    private static bool Account(Dictionary<FlowKey, FlowStats> flows, Packet packet, DateTime time, int length)
    {
        // PacketDotNet parses VXLAN itself (UDP port 4789); the tenant's packet is the VXLAN payload.
        long vni = -1;
        if (packet.Extract<VxlanPacket>() is { PayloadPacket: { } inner } vxlan)
        {
            vni = vxlan.Vni;
            packet = inner;
        }

        if (packet.Extract<IPPacket>() is not { } ip)
        {
            return false;
        }

        ushort sourcePort;
        ushort destinationPort;
        if (ip.Extract<TcpPacket>() is { } tcp)
        {
            (sourcePort, destinationPort) = (tcp.SourcePort, tcp.DestinationPort);
        }
        else if (ip.Extract<UdpPacket>() is { } udp)
        {
            (sourcePort, destinationPort) = (udp.SourcePort, udp.DestinationPort);
        }
        else
        {
            return false;
        }

        var key = FlowKey.Create(vni, ip.Protocol, ip.SourceAddress, sourcePort, ip.DestinationAddress, destinationPort);
        if (!flows.TryGetValue(key, out FlowStats? stats))
        {
            stats = new FlowStats { First = time };
            flows.Add(key, stats);
        }

        stats.Packets++;
        stats.Bytes += length;
        stats.Last = time;
        return true;
    }

    /// <summary>VNI (-1 when not tunnelled) and 5-tuple, lower endpoint first so both directions share one key.</summary>
    private readonly record struct FlowKey(long Vni, ProtocolType Protocol, IPAddress AddressA, ushort PortA, IPAddress AddressB, ushort PortB)
    {
        public static FlowKey Create(long vni, ProtocolType protocol, IPAddress source, ushort sourcePort, IPAddress destination, ushort destinationPort)
        {
            int order = string.CompareOrdinal(source.ToString(), destination.ToString());
            return order < 0 || (order == 0 && sourcePort <= destinationPort)
                ? new FlowKey(vni, protocol, source, sourcePort, destination, destinationPort)
                : new FlowKey(vni, protocol, destination, destinationPort, source, sourcePort);
        }
    }

    private sealed class FlowStats
    {
        public long Packets { get; set; }

        public long Bytes { get; set; }

        public DateTime First { get; set; }

        public DateTime Last { get; set; }
    }
}
