// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FlowEngine.Packets;

namespace FlowEngine.Flows.Internal;

/// <summary>
/// Direction-independent flow key: the two endpoints in canonical order (lower address, then lower port, first),
/// the virtual network, IP version, protocol and ICMP identifier. 48 bytes, compared as one 256-bit and one
/// 128-bit vector.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 48)]
internal struct FlowKey
{
    public IpAddress A;
    public IpAddress B;
    public ushort PortA;
    public ushort PortB;
    public uint VnId;
    public ushort IcmpId;
    public VirtualNetworkKind VnKind;
    public byte IpVersion;
    public byte Protocol;
    private readonly byte _pad0;
    private readonly ushort _pad1;

    /// <summary>Builds the key of a packet; returns true when the packet's source is endpoint A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool FromPacket(in DecodedPacket p, ushort sourcePort, ushort destinationPort, ushort icmpId, out FlowKey key)
    {
        key = default;
        int c = p.Source.CompareTo(p.Destination);
        bool sourceIsA = c < 0 || (c == 0 && sourcePort <= destinationPort);
        if (sourceIsA)
        {
            key.A = p.Source;
            key.B = p.Destination;
            key.PortA = sourcePort;
            key.PortB = destinationPort;
        }
        else
        {
            key.A = p.Destination;
            key.B = p.Source;
            key.PortA = destinationPort;
            key.PortB = sourcePort;
        }

        key.VnId = p.VnId;
        key.IcmpId = icmpId;
        key.VnKind = p.VnKind;
        key.IpVersion = p.IpVersion;
        key.Protocol = p.Protocol;
        return sourceIsA;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal(ref FlowKey x, ref FlowKey y)
    {
        ref byte bx = ref Unsafe.As<FlowKey, byte>(ref x);
        ref byte by = ref Unsafe.As<FlowKey, byte>(ref y);
        if (Vector256.IsHardwareAccelerated)
        {
            return Vector256.LoadUnsafe(ref bx) == Vector256.LoadUnsafe(ref by)
                && Vector128.LoadUnsafe(ref bx, 32) == Vector128.LoadUnsafe(ref by, 32);
        }

        return Vector128.LoadUnsafe(ref bx) == Vector128.LoadUnsafe(ref by)
            && Vector128.LoadUnsafe(ref bx, 16) == Vector128.LoadUnsafe(ref by, 16)
            && Vector128.LoadUnsafe(ref bx, 32) == Vector128.LoadUnsafe(ref by, 32);
    }

    /// <summary>64-bit hash: two CRC32C chains (hardware where available) over the six words of the key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(ref FlowKey key, uint seed)
    {
        ref ulong w = ref Unsafe.As<FlowKey, ulong>(ref key);
        uint h0 = BitOperations.Crc32C(seed, w);
        uint h1 = BitOperations.Crc32C(~seed, Unsafe.Add(ref w, 1));
        h0 = BitOperations.Crc32C(h0, Unsafe.Add(ref w, 2));
        h1 = BitOperations.Crc32C(h1, Unsafe.Add(ref w, 3));
        h0 = BitOperations.Crc32C(h0, Unsafe.Add(ref w, 4));
        h1 = BitOperations.Crc32C(h1, Unsafe.Add(ref w, 5));
        return ((ulong)h1 << 32) | (h0 ^ BitOperations.RotateLeft(h1, 16));
    }
}
