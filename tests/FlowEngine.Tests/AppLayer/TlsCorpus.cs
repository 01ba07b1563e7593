// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Packets;

namespace FlowEngine.Tests.AppLayer;

/// <summary>ClientHello bytes from real captures, reassembled in the test from the TCP segments of the first flow.</summary>
internal static class TlsCorpus
{
    /// <summary>The first ClientHello message (4-byte header and body) of the capture's first TLS connection.</summary>
    public static byte[] FirstClientHello(string path)
    {
        var decoder = new PacketDecoder();
        var batch = new PacketBatch(256);
        var stream = new List<byte>();
        ushort? port = null;
        uint next = 0;
        using CaptureFileReader reader = CaptureFile.Open(path);
        while (reader.ReadBatch(batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                ReadOnlySpan<byte> frame = batch.GetFrame(i);
                DecodedPacket p = default;
                if (!decoder.Decode(frame, batch.GetLinkType(i), ref p) || p.Protocol != 6 || p.PayloadLength <= 0 || p.DestinationPort != 443)
                {
                    continue;
                }

                port ??= p.SourcePort;
                if (p.SourcePort != port || (stream.Count > 0 && p.TcpSequence != next))
                {
                    continue;
                }

                ReadOnlySpan<byte> payload = frame.Slice(p.PayloadOffset, Math.Min(p.PayloadLength, frame.Length - p.PayloadOffset));
                stream.AddRange(payload.ToArray());
                next = p.TcpSequence + (uint)payload.Length;
                byte[] message = new byte[1 << 16];
                if (TlsRecordReader.TryReadHandshake(stream.ToArray(), message, out TlsHandshake h) && h.IsComplete)
                {
                    Assert.Equal(1, h.Type);
                    return message[..h.Written];
                }
            }
        }

        Assert.Fail("no whole ClientHello in " + path);
        return [];
    }
}
