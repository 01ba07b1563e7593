// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using FlowEngine.AppLayer;
using FlowEngine.Detection;
using FlowEngine.Packets;

namespace FlowEngine.Archive;

/// <summary>A record's context as it lies in the frame: string table indices, flags, and where its metadata starts.</summary>
internal struct ContextFields
{
    public int SourceVm;
    public int DestinationVm;
    public int Tenant;
    public ushort Flags;
    public float SourceGap;
    public float DestinationGap;
    public double Score;
    public AttackClass AlertClass;
    public AppProtocol App;
    public bool HasDetails;
    public int MetadataStart;

    public readonly bool IsAlert => (Flags & ContextCodec.FlagAlert) != 0;
}

/// <summary>
/// The per-record context encoding.
/// <code>
/// u16 flags (1 source VM, 2 destination VM, 4 tenant, 8 source outside, 16 destination outside, 32 score, 64 alert,
///   128 metadata, 256 source gap, 512 destination gap)
/// varint source VM, varint destination VM, varint tenant (string table indices, each when flagged)
/// f32 source gap, f32 destination gap (seconds since the VM's previous flow, each when flagged)
/// f64 score (when flagged)   u8 attack class
/// metadata (when flagged): u8 app, u8 has details; with details: varint DNS qtype, varint rcode + 1 (0: none),
///   varint answers, varint queries, varint distinct names, varint HTTP status, varint TLS version,
///   varint TLS client version, varint cipher, u8 address count, (u8 version + 16 B address) each,
///   u16 text field mask (bit = AppField), (varint length + bytes) per field set
/// </code>
/// </summary>
internal static class ContextCodec
{
    public const byte FlagSourceVm = 1;
    public const byte FlagDestinationVm = 2;
    public const byte FlagTenant = 4;
    public const byte FlagSourceOutside = 8;
    public const byte FlagDestinationOutside = 16;
    public const byte FlagScore = 32;
    public const byte FlagAlert = 64;
    public const byte FlagMetadata = 128;
    public const ushort FlagSourceGap = 256;
    public const ushort FlagDestinationGap = 512;

    /// <summary>Room one record's context may need at most.</summary>
    public const int MaxBytes = 64 + (AppMetadataLimits.DnsAddresses * 17) + (AppMetadataBlock.FieldCount * 5) + AppMetadataLimits.TextBytes + 64;

    /// <summary>Writes the metadata part; returns the bytes used.</summary>
    public static int WriteMetadata(Span<byte> b, AppMetadata m)
    {
        int n = 0;
        b[n++] = (byte)m.App;
        b[n++] = m.HasDetails ? (byte)1 : (byte)0;
        if (!m.HasDetails)
        {
            return n;
        }

        n += ArchiveFormat.WriteVarint(b[n..], (uint)m.DnsQueryType);
        n += ArchiveFormat.WriteVarint(b[n..], (uint)(m.DnsResponseCode + 1));
        n += ArchiveFormat.WriteVarint(b[n..], (uint)m.DnsAnswerCount);
        n += ArchiveFormat.WriteVarint(b[n..], (uint)m.DnsQueryCount);
        n += ArchiveFormat.WriteVarint(b[n..], (uint)m.DnsDistinctNames);
        n += ArchiveFormat.WriteVarint(b[n..], (uint)m.HttpStatus);
        n += ArchiveFormat.WriteVarint(b[n..], (uint)m.TlsVersion);
        n += ArchiveFormat.WriteVarint(b[n..], (uint)m.TlsClientVersion);
        n += ArchiveFormat.WriteVarint(b[n..], (uint)m.TlsCipher);
        int addresses = m.DnsAddressCount;
        b[n++] = (byte)addresses;
        for (int i = 0; i < addresses; i++)
        {
            IpAddress a = m.GetDnsAddress(i, out byte version);
            b[n++] = version;
            a.WriteBytes(b[n..]);
            n += 16;
        }

        int maskAt = n;
        n += 2;
        ushort mask = 0;
        for (int f = 0; f < AppMetadataBlock.FieldCount; f++)
        {
            ReadOnlySpan<byte> text = m.Get((AppField)f);
            if (text.IsEmpty)
            {
                continue;
            }

            mask |= (ushort)(1 << f);
            n += ArchiveFormat.WriteVarint(b[n..], (uint)text.Length);
            text.CopyTo(b[n..]);
            n += text.Length;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(b[maskAt..], mask);
        return n;
    }

    /// <summary>Reads one context, stepping over its metadata.</summary>
    public static void Read(ref ContextReader r, int strings, out ContextFields c)
    {
        c = default;
        c.Flags = BinaryPrimitives.ReadUInt16LittleEndian(r.ReadBytes(2));
        c.SourceVm = (c.Flags & FlagSourceVm) != 0 ? StringIndex(ref r, strings) : -1;
        c.DestinationVm = (c.Flags & FlagDestinationVm) != 0 ? StringIndex(ref r, strings) : -1;
        c.Tenant = (c.Flags & FlagTenant) != 0 ? StringIndex(ref r, strings) : -1;
        c.SourceGap = (c.Flags & FlagSourceGap) != 0 ? BinaryPrimitives.ReadSingleLittleEndian(r.ReadBytes(4)) : float.NaN;
        c.DestinationGap = (c.Flags & FlagDestinationGap) != 0 ? BinaryPrimitives.ReadSingleLittleEndian(r.ReadBytes(4)) : float.NaN;
        c.Score = (c.Flags & FlagScore) != 0 ? r.ReadDouble() : double.NaN;
        c.AlertClass = (AttackClass)r.ReadByte();
        c.MetadataStart = -1;
        if ((c.Flags & FlagMetadata) == 0)
        {
            return;
        }

        c.MetadataStart = r.Position;
        c.App = (AppProtocol)r.ReadByte();
        c.HasDetails = r.ReadByte() != 0;
        if (c.HasDetails)
        {
            ReadDetails(ref r, null);
        }
    }

    private static int StringIndex(ref ContextReader r, int strings)
    {
        uint i = r.ReadVarint();
        if (i >= (uint)strings)
        {
            throw new InvalidDataException("context names a string the frame does not have");
        }

        return (int)i;
    }

    /// <summary>Rebuilds the metadata of a context (at <see cref="ContextFields.MetadataStart"/>).</summary>
    public static ArchivedAppMetadata Materialize(ReadOnlySpan<byte> raw, in ContextFields c)
    {
        var r = new ContextReader(raw, c.MetadataStart + 2);
        var m = new ArchivedAppMetadata(c.App, c.HasDetails);
        if (c.HasDetails)
        {
            ReadDetails(ref r, m);
        }

        return m;
    }

    private static void ReadDetails(ref ContextReader r, ArchivedAppMetadata? into)
    {
        uint qtype = r.ReadVarint();
        uint rcode = r.ReadVarint();
        uint answers = r.ReadVarint();
        uint queries = r.ReadVarint();
        uint distinct = r.ReadVarint();
        uint status = r.ReadVarint();
        uint tls = r.ReadVarint();
        uint tlsClient = r.ReadVarint();
        uint cipher = r.ReadVarint();
        int addresses = r.ReadByte();
        if (addresses > AppMetadataLimits.DnsAddresses)
        {
            throw new InvalidDataException("context has more DNS addresses than metadata keeps");
        }

        if (into is not null)
        {
            ref AppMetadataBlock b = ref into.Block;
            b.DnsQueryType = (ushort)qtype;
            b.DnsResponseCode = rcode == 0 ? byte.MaxValue : (byte)(rcode - 1);
            b.DnsAnswers = (ushort)answers;
            b.DnsQueries = (ushort)queries;
            b.DnsDistinctNames = (ushort)distinct;
            b.HttpStatus = (ushort)status;
            b.TlsVersion = (ushort)tls;
            b.TlsClientVersion = (ushort)tlsClient;
            b.TlsCipher = (ushort)cipher;
            b.DnsAddressCount = (byte)addresses;
        }

        for (int i = 0; i < addresses; i++)
        {
            byte version = r.ReadByte();
            ReadOnlySpan<byte> a = r.ReadBytes(16);
            if (into is not null)
            {
                into.Block.DnsAddressVersions[i] = version;
                into.Block.DnsAddresses[i] = IpAddress.ReadV6(a);
            }
        }

        ushort mask = BinaryPrimitives.ReadUInt16LittleEndian(r.ReadBytes(2));
        for (int f = 0; f < AppMetadataBlock.FieldCount; f++)
        {
            if ((mask & (1 << f)) == 0)
            {
                continue;
            }

            ReadOnlySpan<byte> text = r.ReadBytes((int)r.ReadVarint());
            into?.Block.Set((AppField)f, text, int.MaxValue);
        }
    }
}
