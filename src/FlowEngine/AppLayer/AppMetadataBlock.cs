// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Packets;

namespace FlowEngine.AppLayer;

/// <summary>
/// The metadata of one flow: numbers, DNS details and the text of every <see cref="AppField"/>, in one fixed block from
/// the extension's pool (never in the flow table's entry). Text fields are kept once each, as (offset, length) pairs
/// into <see cref="Text"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AppMetadataBlock
{
    public const int FieldCount = 13;

    public FieldRefs Fields;
    public ushort TextUsed;
    public ushort DnsQueryType;
    public ushort DnsAnswers;
    public ushort DnsQueries;
    public ushort DnsResponses;
    public ushort DnsDistinctNames;
    public ushort HttpStatus;
    public ushort TlsVersion;
    public ushort TlsClientVersion;
    public ushort TlsCipher;
    public byte DnsResponseCode;
    public byte DnsAddressCount;
    public NameHashes DnsNames;
    public Addresses DnsAddresses;
    public AddressVersions DnsAddressVersions;
    public TextBytes Text;

    public void Reset()
    {
        // Only the header needs clearing: text bytes are read only through the field references.
        Fields = default;
        TextUsed = 0;
        DnsQueryType = 0;
        DnsAnswers = 0;
        DnsQueries = 0;
        DnsResponses = 0;
        DnsDistinctNames = 0;
        HttpStatus = 0;
        TlsVersion = 0;
        TlsClientVersion = 0;
        TlsCipher = 0;
        DnsResponseCode = byte.MaxValue;
        DnsAddressCount = 0;
    }

    public readonly bool Has(AppField field) => Fields[(int)field] != 0;

    /// <summary>Keeps <paramref name="value"/> as <paramref name="field"/> unless it is already set; cut to <paramref name="limit"/> and to the room left.</summary>
    public void Set(AppField field, ReadOnlySpan<byte> value, int limit)
    {
        if (Fields[(int)field] != 0 || value.IsEmpty)
        {
            return;
        }

        int n = Math.Min(Math.Min(value.Length, limit), AppMetadataLimits.TextBytes - TextUsed);
        if (n <= 0)
        {
            return;
        }

        value[..n].CopyTo(((Span<byte>)Text)[TextUsed..]);
        Fields[(int)field] = ((uint)TextUsed << 16) | (uint)n;
        TextUsed += (ushort)n;
    }

    [UnscopedRef]
    public readonly ReadOnlySpan<byte> Get(AppField field)
    {
        uint r = Fields[(int)field];
        return r == 0 ? default : ((ReadOnlySpan<byte>)Text).Slice((int)(r >> 16), (int)(r & 0xFFFF));
    }

    [InlineArray(FieldCount)]
    public struct FieldRefs
    {
        private uint _element;
    }

    [InlineArray(AppMetadataLimits.DnsDistinctNames)]
    public struct NameHashes
    {
        private uint _element;
    }

    [InlineArray(AppMetadataLimits.DnsAddresses)]
    public struct Addresses
    {
        private IpAddress _element;
    }

    [InlineArray(AppMetadataLimits.DnsAddresses)]
    public struct AddressVersions
    {
        private byte _element;
    }

    [InlineArray(AppMetadataLimits.TextBytes)]
    public struct TextBytes
    {
        private byte _element;
    }
}
