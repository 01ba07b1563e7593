// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Packets;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>
/// Splits a capture into one pcap per queue the way symmetric RSS does: both directions of a flow land in the
/// same file, in their original order.
/// </summary>
internal static class FlowSplitter
{
    public static (string[] Files, int[] Packets) Split(string capture, int queues)
    {
        var files = new string[queues];
        var writers = new PcapWriter[queues];
        var counts = new int[queues];
        for (int q = 0; q < queues; q++)
        {
            files[q] = TestPaths.NewTempPath($".q{q}.pcap");
            writers[q] = new PcapWriter(files[q]);
        }

        try
        {
            var decoder = new PacketDecoder(new DecoderOptions());
            using CaptureFileReader reader = CaptureFile.Open(capture);
            var batch = new PacketBatch(256);
            DecodedPacket packet = default;
            while (reader.ReadBatch(batch))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    int q = 0;
                    if (decoder.Decode(batch.GetFrame(i), batch.GetLinkType(i), ref packet))
                    {
                        // Order-independent mix of the two endpoints: symmetric, like a symmetric RSS key. Fragments
                        // hash on addresses only (later fragments carry no ports), as NICs do.
                        bool ports = (packet.Flags & PacketFlags.Fragment) == 0;
                        // Fixed (not per-process randomised) so that every run splits alike.
                        uint a = Endpoint(packet.Source, ports ? packet.SourcePort : (ushort)0);
                        uint b = Endpoint(packet.Destination, ports ? packet.DestinationPort : (ushort)0);
                        uint h = (a ^ b) * 2654435761u;
                        q = (int)((h >> 16) % (uint)queues);
                    }

                    writers[q].Write(batch.GetFrame(i), batch.GetWireLength(i), batch.GetTimestampNs(i));
                    counts[q]++;
                }
            }
        }
        finally
        {
            foreach (PcapWriter w in writers)
            {
                w.Dispose();
            }
        }

        return (files, counts);
    }

    private static uint Endpoint(IpAddress address, ushort port)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.WriteBytes(bytes);
        uint h = 2166136261u;
        foreach (byte x in bytes)
        {
            h = (h ^ x) * 16777619u;
        }

        return (h ^ port) * 16777619u;
    }
}
