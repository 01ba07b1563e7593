// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Packets;

public class PacketDecoderTests
{
    private static readonly PacketDecoder s_decoder = new();

    private static DecodedPacket Decode(byte[] frame, LinkType link = LinkType.Ethernet, PacketDecoder? decoder = null)
    {
        DecodedPacket p = default;
        (decoder ?? s_decoder).Decode(frame, link, ref p);
        return p;
    }

    [Fact]
    public void Decode_VxlanTcp_InnerFiveTupleAndVni()
    {
        byte[] frame = Frames.VxlanTcp(5001, "10.0.0.1", "10.0.0.2", 40000, 443, 0x02, 10);
        DecodedPacket p = Decode(frame);
        Assert.Equal(RejectReason.None, p.Reject);
        Assert.Equal(VirtualNetworkKind.Vxlan, p.VnKind);
        Assert.Equal(5001u, p.VnId);
        Assert.Equal(1, p.TunnelDepth);
        Assert.Equal("10.0.0.1", p.Source.ToString(4));
        Assert.Equal("10.0.0.2", p.Destination.ToString(4));
        Assert.Equal("192.0.2.1", p.OuterSource.ToString(4));
        Assert.Equal(6, p.Protocol);
        Assert.Equal(40000, p.SourcePort);
        Assert.Equal(443, p.DestinationPort);
        Assert.Equal(TcpFlags.Syn, p.TcpFlags);
        Assert.Equal(20 + 20 + 10, p.IpLength);
        Assert.Equal(10, p.PayloadLength);
        Assert.Equal(frame.Length - 10, p.PayloadOffset);
    }

    [Fact]
    public void Decode_VxlanOnConfiguredPort_DecodesOnlyWhenConfigured()
    {
        byte[] inner = Frames.Ethernet(0x0800, Frames.IPv4("10.1.0.1", "10.1.0.2", 17, Frames.Udp(1, 2, [])));
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("192.0.2.1", "192.0.2.2", 17, Frames.Udp(5000, 8472, Frames.Vxlan(7, inner))));
        Assert.Equal(VirtualNetworkKind.None, Decode(frame).VnKind);
        var options = new DecoderOptions();
        options.VxlanPorts.Add(8472);
        DecodedPacket p = Decode(frame, decoder: new PacketDecoder(options));
        Assert.Equal(VirtualNetworkKind.Vxlan, p.VnKind);
        Assert.Equal(7u, p.VnId);
        Assert.Equal("10.1.0.1", p.Source.ToString(4));
    }

    [Fact]
    public void Decode_GeneveWithOptions_OptionsWalkedAndExposed()
    {
        byte[] options = [0x01, 0x02, 0x80, 0x01, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x10, 0x05, 0x00];
        byte[] inner = Frames.Ethernet(0x86DD, Frames.IPv6("fd00::1", "fd00::2", 17, Frames.Udp(53, 5353, [1, 2, 3])));
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("192.0.2.1", "192.0.2.2", 17, Frames.Udp(1234, 6081, Frames.Geneve(0xABCDE, 0x6558, options, inner))));
        DecodedPacket p = Decode(frame);
        Assert.Equal(RejectReason.None, p.Reject);
        Assert.Equal(VirtualNetworkKind.Geneve, p.VnKind);
        Assert.Equal(0xABCDEu, p.VnId);
        Assert.Equal(6, p.IpVersion);
        Assert.Equal(IPAddress.Parse("fd00::1"), p.Source.ToIPAddress(6));
        var reader = new GeneveOptionReader(frame.AsSpan(p.GeneveOptionsOffset, p.GeneveOptionsLength));
        Assert.True(reader.TryRead(out GeneveOption first));
        Assert.Equal(0x0102, first.OptionClass);
        Assert.True(first.IsCritical);
        Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, reader.GetData(first).ToArray());
        Assert.True(reader.TryRead(out GeneveOption second));
        Assert.Equal(0x0010, second.OptionClass);
        Assert.Equal(0, second.DataLength);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Decode_GeneveOptionLengthOverrunsOptions_Malformed()
    {
        byte[] options = [0x01, 0x02, 0x03, 0x02, 0, 0, 0, 0];
        byte[] inner = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1, 2, [])));
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("192.0.2.1", "192.0.2.2", 17, Frames.Udp(1234, 6081, Frames.Geneve(1, 0x6558, options, inner))));
        Assert.Equal(RejectReason.Malformed, Decode(frame).Reject);
    }

    [Fact]
    public void Decode_NvgreKey_GreVirtualNetwork()
    {
        byte[] inner = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 1, Frames.Icmp(8, 0, 77, [])));
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("192.0.2.1", "192.0.2.2", 47, Frames.Gre(0x6558, 0x12345600, inner)));
        DecodedPacket p = Decode(frame);
        Assert.Equal(VirtualNetworkKind.Gre, p.VnKind);
        Assert.Equal(0x12345600u, p.VnId);
        Assert.Equal(1, p.Protocol);
        Assert.Equal(8, p.SourcePort);
        Assert.Equal(0, p.DestinationPort);
        Assert.Equal(77, p.IcmpId);
    }

    [Fact]
    public void Decode_QinQ_VlanNamesNetworkWithoutTunnel()
    {
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1, 2, [])), 100, 200);
        DecodedPacket p = Decode(frame);
        Assert.Equal(VirtualNetworkKind.Vlan, p.VnKind);
        Assert.Equal(200u, p.VnId);
        Assert.Equal(100, p.OuterVlanId);
        Assert.Equal(2, p.VlanCount);
    }

    [Fact]
    public void Decode_IPv6ExtensionHeaders_Skipped()
    {
        byte[] l4 = Frames.Tcp(1, 80, 0x10, []);
        byte[] frame = Frames.Ethernet(0x86DD, Frames.IPv6("2001:db8::1", "2001:db8::2", 0, Frames.Extension(60, Frames.Extension(6, l4))));
        DecodedPacket p = Decode(frame);
        Assert.Equal(RejectReason.None, p.Reject);
        Assert.Equal(6, p.Protocol);
        Assert.Equal(80, p.DestinationPort);
        Assert.Equal(40 + 16 + 20, p.IpLength);
    }

    [Fact]
    public void Decode_NonFirstFragment_NoTransport()
    {
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, new byte[16], fragment: 0x0002));
        DecodedPacket p = Decode(frame);
        Assert.Equal(RejectReason.None, p.Reject);
        Assert.True((p.Flags & PacketFlags.NonFirstFragment) != 0);
        Assert.False(p.HasTransport);
        Assert.Equal(16, p.FragmentOffset);
    }

    [Fact]
    public void Decode_TcpOptions_Parsed()
    {
        byte[] options = [2, 4, 0x05, 0xB4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 1, 1, 0];
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 6, Frames.Tcp(1, 2, 0x02, [], options)));
        DecodedPacket p = Decode(frame);
        Assert.Equal(1460, p.TcpMss);
        Assert.Equal(7, p.TcpWindowScale);
        Assert.True(p.TcpSackPermitted);
        Assert.Equal(9u, p.TcpTsVal);
    }

    [Theory]
    [InlineData(new byte[] { 1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 })] // the common layout
    [InlineData(new byte[] { 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 1, 1 })] // same option, walked
    [InlineData(new byte[] { 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0 })] // one NOP, then end
    public void Decode_TcpTimestamps_AnyLayout(byte[] options)
    {
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 6, Frames.Tcp(1, 2, 0x10, [], options)));
        DecodedPacket p = Decode(frame);
        Assert.Equal(0x11223344u, p.TcpTsVal);
        Assert.Equal(0x55667788u, p.TcpTsEcr);
        Assert.Equal(0, p.TcpMss);
        Assert.True((p.Flags & PacketFlags.HasTcpOptions) != 0);
    }

    [Fact]
    public void Decode_TcpTimestampOfWrongLength_Ignored()
    {
        // NOP, NOP, then a timestamp option claiming 9 bytes: not the fixed layout, and not a valid option.
        byte[] options = [1, 1, 8, 9, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0];
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 6, Frames.Tcp(1, 2, 0x10, [], options)));
        DecodedPacket p = Decode(frame);
        Assert.Equal(0u, p.TcpTsVal);
    }

    [Theory]
    [InlineData(0x46, RejectReason.Truncated)]
    [InlineData(0x44, RejectReason.BadHeaderLength)]
    [InlineData(0x55, RejectReason.BadIpVersion)]
    public void Decode_BadIPv4Header_RejectedWithReason(byte versionIhl, RejectReason expected)
    {
        byte[] ip = Frames.IPv4("10.0.0.1", "10.0.0.2", 17, []);
        ip[0] = versionIhl;
        Assert.Equal(expected, Decode(Frames.Ethernet(0x0800, ip)).Reject);
    }

    [Fact]
    public void Decode_TotalLengthBeyondFrame_BadTotalLength()
    {
        byte[] frame = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1, 2, []), totalLength: 200));
        Assert.Equal(RejectReason.BadTotalLength, Decode(frame).Reject);
    }

    [Fact]
    public void Decode_TunnelNestingBeyondLimit_NestingTooDeep()
    {
        byte[] frame = Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(1, 2, []));
        for (int i = 0; i < 3; i++)
        {
            frame = Frames.IPv4("192.0.2.1", "192.0.2.2", 4, frame);
        }

        var decoder = new PacketDecoder(new DecoderOptions { MaxTunnelDepth = 2 });
        Assert.Equal(RejectReason.NestingTooDeep, Decode(frame, LinkType.Raw, decoder).Reject);
        Assert.Equal(RejectReason.None, Decode(frame, LinkType.Raw).Reject);
        Assert.Equal(3, Decode(frame, LinkType.Raw).TunnelDepth);
    }

    [Fact]
    public void Decode_NonIp_Counted()
    {
        byte[] arp = Frames.Ethernet(0x0806, new byte[28]);
        Assert.Equal(RejectReason.NonIp, Decode(arp).Reject);
    }

    [Fact]
    public void Decode_EveryPrefixOfTunnelledFrames_NeverThrowsAndRejectsShortOnes()
    {
        byte[][] frames =
        [
            Frames.VxlanTcp(1, "10.0.0.1", "10.0.0.2", 1, 2, 0x12, 5),
            Frames.Ethernet(0x0800, Frames.IPv4("192.0.2.1", "192.0.2.2", 17, Frames.Udp(1, 6081, Frames.Geneve(1, 0x0800, [0, 1, 2, 1, 0, 0, 0, 0], Frames.IPv4("10.0.0.1", "10.0.0.2", 6, Frames.Tcp(1, 2, 2, []))))), 10, 20),
            Frames.Ethernet(0x86DD, Frames.IPv6("2001:db8::1", "2001:db8::2", 47, Frames.Gre(0x0800, 5, Frames.IPv4("10.0.0.1", "10.0.0.2", 1, Frames.Icmp(8, 0, 1, []))))),
        ];
        foreach (byte[] frame in frames)
        {
            Assert.Equal(RejectReason.None, Decode(frame).Reject);
            for (int length = 0; length < frame.Length; length++)
            {
                DecodedPacket p = default;
                bool ok = s_decoder.Decode(frame.AsSpan(0, length), LinkType.Ethernet, ref p);
                Assert.False(ok && p.HasTransport && p.TransportOffset + 4 > length, $"prefix {length} claims a transport header beyond the data");
            }
        }
    }
}
