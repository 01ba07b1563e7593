// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FlowEngine.Packets;

namespace FlowEngine.Flows.Internal;

/// <summary>
/// Direction-independent flow key: the two endpoints in a canonical order (see <see cref="FromPacket"/>),
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
    /// <remarks>
    /// Endpoint A is the lower (address, port) pair in the order of the addresses' raw 64-bit words (high word first)
    /// and then the port: any total order serves, as long as both directions of a flow agree, and this one needs no
    /// byte swapping. Branch-free: the packets of a flow come from either side in no predictable order, and a
    /// branch here was a likely misprediction per packet.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool FromPacket(in DecodedPacket p, ushort sourcePort, ushort destinationPort, ushort icmpId, out FlowKey key)
    {
        ref IpAddress source = ref Unsafe.AsRef(in p.Source);
        ref IpAddress destination = ref Unsafe.AsRef(in p.Destination);
        Vector128<ulong> s = Unsafe.As<IpAddress, Vector128<ulong>>(ref source);
        Vector128<ulong> d = Unsafe.As<IpAddress, Vector128<ulong>>(ref destination);
        ulong s0 = s.ToScalar(), s1 = s.GetElement(1), d0 = d.ToScalar(), d1 = d.GetElement(1);

        // Non-short-circuit operators: flag arithmetic, no branches.
        bool sourceIsA = (s1 < d1) | ((s1 == d1) & ((s0 < d0) | ((s0 == d0) & (sourcePort <= destinationPort))));
        uint swap = 1u - Unsafe.BitCast<bool, byte>(sourceIsA);
        Vector128<ulong> swapMask = Vector128.Create(0ul - swap);

        Unsafe.SkipInit(out key);
        ref byte k = ref Unsafe.As<FlowKey, byte>(ref key);
        Vector128.ConditionalSelect(swapMask, d, s).StoreUnsafe(ref Unsafe.As<byte, ulong>(ref k));
        Vector128.ConditionalSelect(swapMask, s, d).StoreUnsafe(ref Unsafe.As<byte, ulong>(ref k), 2);

        // PortA, PortB, VnId; then IcmpId, VnKind, IpVersion, Protocol and three zero bytes of padding.
        uint ports = BitOperations.RotateLeft(sourcePort | ((uint)destinationPort << 16), (int)(swap * 16));
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref k, 32), ports | ((ulong)p.VnId << 32));
        Unsafe.WriteUnaligned(
            ref Unsafe.Add(ref k, 40),
            icmpId | ((ulong)p.VnKind << 16) | ((ulong)p.IpVersion << 24) | ((ulong)p.Protocol << 32));
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
