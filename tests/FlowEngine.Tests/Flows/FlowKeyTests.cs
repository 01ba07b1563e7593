// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Flows.Internal;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Flows;

public class FlowKeyTests
{
    [Fact]
    public void FromPacket_BothDirectionsGiveOneKeyWithEveryFieldInPlace()
    {
        var random = new Random(11);
        for (int i = 0; i < 20_000; i++)
        {
            DecodedPacket p = RandomPacket(random);
            DecodedPacket q = p;
            (q.Source, q.Destination) = (p.Destination, p.Source);
            (q.SourcePort, q.DestinationPort) = (p.DestinationPort, p.SourcePort);

            bool forward = FlowKey.FromPacket(in p, p.SourcePort, p.DestinationPort, p.IcmpId, out FlowKey k1);
            bool backward = FlowKey.FromPacket(in q, q.SourcePort, q.DestinationPort, q.IcmpId, out FlowKey k2);
            Assert.True(FlowKey.Equal(ref k1, ref k2));
            Assert.True(MemoryMarshal.AsBytes(new Span<FlowKey>(ref k1)).SequenceEqual(MemoryMarshal.AsBytes(new Span<FlowKey>(ref k2))));

            bool sameEndpoint = p.Source == p.Destination && p.SourcePort == p.DestinationPort;
            Assert.True(sameEndpoint ? forward && backward : forward != backward);

            // A is the source exactly when FromPacket says so, with its port.
            Assert.Equal(forward ? p.Source : p.Destination, k1.A);
            Assert.Equal(forward ? p.Destination : p.Source, k1.B);
            Assert.Equal(forward ? p.SourcePort : p.DestinationPort, k1.PortA);
            Assert.Equal(forward ? p.DestinationPort : p.SourcePort, k1.PortB);
            Assert.Equal(p.VnId, k1.VnId);
            Assert.Equal(p.IcmpId, k1.IcmpId);
            Assert.Equal(p.VnKind, k1.VnKind);
            Assert.Equal(p.IpVersion, k1.IpVersion);
            Assert.Equal(p.Protocol, k1.Protocol);

            // Padding is zero, so equal flows compare equal as bytes and hash alike.
            Assert.Equal(0, MemoryMarshal.AsBytes(new Span<FlowKey>(ref k1))[45..].ToArray().Sum(b => b));
            Assert.Equal(FlowKey.Hash(ref k1, 5), FlowKey.Hash(ref k2, 5));
        }
    }

    private static DecodedPacket RandomPacket(Random random)
    {
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        bool v6 = random.Next(2) == 0;
        random.NextBytes(a[..(v6 ? 16 : 4)]);
        random.NextBytes(b[..(v6 ? 16 : 4)]);

        // Shared prefixes and equal addresses or ports, where the order falls to the next word or to the port.
        switch (random.Next(4))
        {
            case 0:
                a[..8].CopyTo(b);
                break;
            case 1:
                a.CopyTo(b);
                break;
        }

        var p = default(DecodedPacket);
        p.Source = v6 ? IpAddress.ReadV6(a) : IpAddress.ReadV4(a);
        p.Destination = v6 ? IpAddress.ReadV6(b) : IpAddress.ReadV4(b);
        p.SourcePort = (ushort)random.Next(4);
        p.DestinationPort = random.Next(3) == 0 ? p.SourcePort : (ushort)random.Next(65536);
        p.IcmpId = (ushort)random.Next(65536);
        p.VnId = (uint)random.Next(1 << 24);
        p.VnKind = (VirtualNetworkKind)random.Next(5);
        p.IpVersion = v6 ? (byte)6 : (byte)4;
        p.Protocol = (byte)random.Next(256);
        p.TcpFlags = (TcpFlags)0xFF; // fields outside the key must not leak into it
        Assert.Equal(48, Unsafe.SizeOf<FlowKey>());
        return p;
    }
}
