// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Archive;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.ArchiveHost;

/// <summary>The records the host writes: record i is a pure function of i, so a test can say which records it must find.</summary>
public static class HostRecords
{
    private static readonly string[] s_vms = ["web-1", "web-2", "db-1", "cache-1", "batch-7"];

    public static FlowRecord Record(long i)
    {
        ulong x = Mix((ulong)i);
        var r = default(FlowRecord);
        Span<byte> bytes = MemoryMarshal.AsBytes(new Span<FlowRecord>(ref r));
        for (int k = 0; k < bytes.Length; k++)
        {
            bytes[k] = (byte)Mix(x + (ulong)k);
        }

        // Arbitrary bytes everywhere; the fields the archive indexes get values a query can name.
        r.FirstNs = 1_700_000_000_000_000_000 + (i * 1_000_000);
        r.LastNs = r.FirstNs + (long)(x % 5_000_000_000);
        r.IpVersion = 4;
        r.VnKind = VirtualNetworkKind.Vxlan;
        r.VnId = 5000 + (uint)(i % 3);
        r.SourceAddress = IpAddress.ReadV4([10, 0, (byte)(i % 3), (byte)(x % 250)]);
        r.DestinationAddress = IpAddress.ReadV4([10, 0, (byte)(i % 3), (byte)((x >> 8) % 250)]);
        r.SourcePort = (ushort)(1024 + (x % 60000));
        r.DestinationPort = (ushort)(i % 4 == 0 ? 53 : 443);
        r.Protocol = (byte)(i % 4 == 0 ? 17 : 6);
        return r;
    }

    public static FlowContext Context(long i) => new()
    {
        SourceVm = s_vms[i % s_vms.Length],
        DestinationVm = i % 3 == 0 ? null : s_vms[(i + 2) % s_vms.Length],
        Tenant = i % 2 == 0 ? "blue" : "red",
        DestinationOutside = i % 3 == 0,
        Score = i % 5 == 0 ? null : i * 0.25,
        IsAlert = i % 11 == 0,
        AlertClass = i % 11 == 0 ? AttackClass.Scan : AttackClass.None,
    };

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
