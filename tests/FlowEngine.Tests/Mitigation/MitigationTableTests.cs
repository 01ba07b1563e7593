// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using FlowEngine.Mitigation;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Mitigation;

public class MitigationTableTests
{
    private static readonly IpAddress s_a = IpAddress.From(IPAddress.Parse("10.0.0.1"));
    private static readonly IpAddress s_b = IpAddress.From(IPAddress.Parse("10.0.0.2"));
    private static readonly IpAddress s_c = IpAddress.From(IPAddress.Parse("10.0.0.3"));

    private static DecodedPacket Udp(IpAddress src, ushort sport, IpAddress dst, ushort dport, long ns = 0) => new()
    {
        IpVersion = 4,
        Protocol = 17,
        Source = src,
        Destination = dst,
        SourcePort = sport,
        DestinationPort = dport,
        TimestampNs = ns,
    };

    private static DecodedPacket Echo(IpAddress src, IpAddress dst, byte type, ushort id) => new()
    {
        IpVersion = 4,
        Protocol = 1,
        Source = src,
        Destination = dst,
        SourcePort = type,
        DestinationPort = (ushort)(type == 8 ? 0 : 8),
        IcmpId = id,
    };

    [Fact]
    public void NoRules_Forwards()
    {
        var table = new MitigationTable();
        Assert.Equal(PacketVerdict.Forward, table.Decide(Udp(s_a, 1, s_b, 2)));
        Assert.Equal(1, table.Forwarded);
    }

    [Fact]
    public void FlowRule_DropsBothDirections_OnlyThatFlow()
    {
        var table = new MitigationTable();
        table.SetFlow(FlowSelector.Ports(17, s_a, 5001, s_b, 7001), MitigationRule.Drop);
        Assert.Equal(PacketVerdict.Drop, table.Decide(Udp(s_a, 5001, s_b, 7001)));
        Assert.Equal(PacketVerdict.Drop, table.Decide(Udp(s_b, 7001, s_a, 5001)));
        Assert.Equal(PacketVerdict.Forward, table.Decide(Udp(s_a, 5002, s_b, 7001)));
        Assert.Equal(PacketVerdict.Forward, table.Decide(Udp(s_a, 5001, s_c, 7001)));
        Assert.True(table.RemoveFlow(FlowSelector.Ports(17, s_b, 7001, s_a, 5001)));
        Assert.Equal(PacketVerdict.Forward, table.Decide(Udp(s_a, 5001, s_b, 7001)));
        Assert.Equal(2, table.Dropped);
    }

    [Fact]
    public void IcmpEchoRule_MatchesRequestAndReplyOfThatIdentifier()
    {
        var table = new MitigationTable();
        table.SetFlow(FlowSelector.IcmpEcho(1, s_a, s_b, 77), MitigationRule.Drop);
        Assert.Equal(PacketVerdict.Drop, table.Decide(Echo(s_a, s_b, 8, 77)));
        Assert.Equal(PacketVerdict.Drop, table.Decide(Echo(s_b, s_a, 0, 77)));
        Assert.Equal(PacketVerdict.Forward, table.Decide(Echo(s_a, s_b, 8, 78)));
    }

    [Fact]
    public void AddressRule_MatchesEitherEnd_FlowRuleWins()
    {
        var table = new MitigationTable();
        table.SetAddress(s_b, VirtualNetworkId.None, MitigationRule.Drop);
        Assert.Equal(PacketVerdict.Drop, table.Decide(Udp(s_a, 1, s_b, 2)));
        Assert.Equal(PacketVerdict.Drop, table.Decide(Udp(s_b, 2, s_c, 1)));
        Assert.Equal(PacketVerdict.Forward, table.Decide(Udp(s_a, 1, s_c, 2)));

        // Same address in another virtual network: not that VM.
        DecodedPacket other = Udp(s_a, 1, s_b, 2);
        other.VnKind = VirtualNetworkKind.Vxlan;
        other.VnId = 42;
        Assert.Equal(PacketVerdict.Forward, table.Decide(other));

        table.SetFlow(FlowSelector.Ports(17, s_a, 1, s_b, 2), MitigationRule.RateLimit(1, 1));
        Assert.Equal(PacketVerdict.Forward, table.Decide(Udp(s_a, 1, s_b, 2)));
        Assert.True(table.RemoveAddress(s_b, VirtualNetworkId.None));
        table.Clear();
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void RateLimit_TokenBucketOnPacketTime()
    {
        var table = new MitigationTable();
        table.SetFlow(FlowSelector.Ports(17, s_a, 1, s_b, 2), MitigationRule.RateLimit(packetsPerSecond: 10, burst: 3));
        long t = 1_700_000_000_000_000_000;
        int passed = 0;
        for (int i = 0; i < 10; i++)
        {
            passed += table.Decide(Udp(s_a, 1, s_b, 2, t)) == PacketVerdict.Forward ? 1 : 0;
        }

        Assert.Equal(3, passed); // the burst, at one instant

        // 250 ms later: 2.5 tokens, so 2 more packets pass.
        passed = 0;
        for (int i = 0; i < 10; i++)
        {
            passed += table.Decide(Udp(s_a, 1, s_b, 2, t + 250_000_000)) == PacketVerdict.Forward ? 1 : 0;
        }

        Assert.Equal(2, passed);

        // A long pause refills only to the burst.
        passed = 0;
        for (int i = 0; i < 10; i++)
        {
            passed += table.Decide(Udp(s_a, 1, s_b, 2, t + 60_000_000_000)) == PacketVerdict.Forward ? 1 : 0;
        }

        Assert.Equal(3, passed);
    }
}
