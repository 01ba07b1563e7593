// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace FlowEngine.Tests.Export;

/// <summary>Writes a byte stream as one TCP connection (handshake, data segments, FIN) from 127.0.0.2 to 127.0.0.1:port in a pcap.</summary>
internal static class TcpStreamPcap
{
    public static byte[] Build(ReadOnlySpan<byte> stream, int port, int segmentBytes)
    {
        using var pcap = new MemoryStream();
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1); // Ethernet
        pcap.Write(header);

        uint clientSeq = 1000, serverSeq = 5000;
        int frame = 0;
        void Segment(bool fromClient, byte flags, ReadOnlySpan<byte> payload)
        {
            byte[] p = new byte[14 + 20 + 20 + payload.Length];
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(12), 0x0800);
            Span<byte> ip = p.AsSpan(14);
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(40 + payload.Length));
            ip[8] = 64;
            ip[9] = 6;
            byte[] client = [127, 0, 0, 2], server = [127, 0, 0, 1];
            (fromClient ? client : server).CopyTo(ip[12..]);
            (fromClient ? server : client).CopyTo(ip[16..]);
            Span<byte> tcp = ip[20..];
            BinaryPrimitives.WriteUInt16BigEndian(tcp, fromClient ? (ushort)40000 : (ushort)port);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], fromClient ? (ushort)port : (ushort)40000);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], fromClient ? clientSeq : serverSeq);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], flags == 0x02 ? 0 : fromClient ? serverSeq : clientSeq);
            tcp[12] = 0x50;
            tcp[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);
            payload.CopyTo(tcp[20..]);

            Span<byte> record = stackalloc byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(record, 1_700_000_000);
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(frame++ * 1000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)p.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)p.Length);
            pcap.Write(record);
            pcap.Write(p);
        }

        Segment(true, 0x02, default); // SYN
        clientSeq++;
        Segment(false, 0x12, default); // SYN-ACK
        serverSeq++;
        Segment(true, 0x10, default); // ACK
        for (int offset = 0; offset < stream.Length; offset += segmentBytes)
        {
            ReadOnlySpan<byte> part = stream.Slice(offset, Math.Min(segmentBytes, stream.Length - offset));
            Segment(true, 0x18, part); // PSH-ACK
            clientSeq += (uint)part.Length;
            Segment(false, 0x10, default);
        }

        Segment(true, 0x11, default); // FIN-ACK
        return pcap.ToArray();
    }
}
