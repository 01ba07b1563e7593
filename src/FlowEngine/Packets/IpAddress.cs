// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FlowEngine.Packets;

/// <summary>
/// An IPv4 or IPv6 address held as 16 raw bytes in network order (IPv4 uses the first four bytes, the rest are zero).
/// Blittable and compared as two 64-bit words; the IP version is kept beside it, not in it.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public readonly struct IpAddress : IEquatable<IpAddress>
{
    private readonly ulong _w0;
    private readonly ulong _w1;

    private IpAddress(ulong w0, ulong w1)
    {
        _w0 = w0;
        _w1 = w1;
    }

    /// <summary>Reads an IPv4 address (4 bytes, network order).</summary>
    /// <param name="src">At least 4 bytes.</param>
    /// <returns>The address.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpAddress ReadV4(ReadOnlySpan<byte> src) => new(MemoryMarshal.Read<uint>(src), 0);

    /// <summary>An IPv4 address from the four bytes <see cref="V4Raw"/> returned.</summary>
    internal static IpAddress FromV4Raw(uint raw) => new(raw, 0);

    /// <summary>The four bytes of an IPv4 address as they lie in memory (network order), for compact storage.</summary>
    internal uint V4Raw => (uint)_w0;

    /// <summary>Reads an IPv6 address (16 bytes, network order).</summary>
    /// <param name="src">At least 16 bytes.</param>
    /// <returns>The address.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpAddress ReadV6(ReadOnlySpan<byte> src) => new(MemoryMarshal.Read<ulong>(src), MemoryMarshal.Read<ulong>(src[8..]));

    /// <summary>Creates an address from a <see cref="IPAddress"/>.</summary>
    /// <param name="address">An IPv4 or IPv6 address.</param>
    /// <returns>The address.</returns>
    public static IpAddress From(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> b = stackalloc byte[16];
        b.Clear();
        address.TryWriteBytes(b, out _);
        return new(MemoryMarshal.Read<ulong>(b), MemoryMarshal.Read<ulong>(b[8..]));
    }

    /// <summary>Writes the 16 raw bytes.</summary>
    /// <param name="dst">At least 16 bytes.</param>
    public void WriteBytes(Span<byte> dst)
    {
        MemoryMarshal.Write(dst, in Unsafe.AsRef(in _w0));
        MemoryMarshal.Write(dst[8..], in Unsafe.AsRef(in _w1));
    }

    /// <summary>The IPv4 address as a host-order integer (meaningful for IPv4 only).</summary>
    public uint V4HostOrder
    {
        get
        {
            Span<byte> b = stackalloc byte[8];
            MemoryMarshal.Write(b, in Unsafe.AsRef(in _w0));
            return BinaryPrimitives.ReadUInt32BigEndian(b);
        }
    }

    /// <summary>Converts to <see cref="IPAddress"/> (allocates; for output, not for hot paths).</summary>
    /// <param name="ipVersion">4 or 6.</param>
    /// <returns>The address.</returns>
    public IPAddress ToIPAddress(int ipVersion)
    {
        Span<byte> b = stackalloc byte[16];
        WriteBytes(b);
        return ipVersion == 4 ? new IPAddress(b[..4]) : new IPAddress(b);
    }

    /// <summary>Formats the address as text (allocates).</summary>
    /// <param name="ipVersion">4 or 6.</param>
    /// <returns>Dotted quad or RFC 5952 text.</returns>
    public string ToString(int ipVersion) => ToIPAddress(ipVersion).ToString();

    /// <summary>Orders two addresses by their bytes, as a big-endian 128-bit number.</summary>
    /// <param name="other">The other address.</param>
    /// <returns>Negative, zero or positive.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CompareTo(in IpAddress other)
    {
        int c = BigEndian(_w0).CompareTo(BigEndian(other._w0));
        return c != 0 ? c : BigEndian(_w1).CompareTo(BigEndian(other._w1));
    }

    // The words hold network-order bytes: as numbers they compare in address order once read big-endian.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong BigEndian(ulong word) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(word) : word;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Equals(IpAddress other) => _w0 == other._w0 && _w1 == other._w1;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is IpAddress a && Equals(a);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_w0, _w1);

    /// <summary>Equality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>True when equal.</returns>
    public static bool operator ==(IpAddress left, IpAddress right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>True when different.</returns>
    public static bool operator !=(IpAddress left, IpAddress right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => _w1 == 0 && (_w0 >> 32) == 0 ? ToString(4) : ToString(6);
}
