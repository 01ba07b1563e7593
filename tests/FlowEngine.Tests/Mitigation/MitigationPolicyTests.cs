// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Detection;
using FlowEngine.Mitigation;
using static FlowEngine.Tests.Mitigation.MitigationTestData;

namespace FlowEngine.Tests.Mitigation;

public class MitigationPolicyTests
{
    [Fact]
    public void DefaultPolicy_Parses_AndMapsClassAndConfidence()
    {
        MitigationPolicy p = MitigationPolicy.Default([IpNetwork.Parse("10.1.0.1")]);
        Assert.Equal(10, p.BudgetPerMinute);
        Assert.Equal(TimeSpan.FromMinutes(10), p.DefaultTtl);
        Assert.Equal([IpNetwork.Parse("10.1.0.1")], p.Allowlist);

        MitigationRequest block = Assert.Single(p.Decide(Alert(AttackClass.Exfiltration, 0.95)));
        Assert.Equal(MitigationKind.Block, block.Kind);
        Assert.Equal(IpNetwork.Parse("203.0.113.9"), block.Address);
        Assert.Equal(TimeSpan.FromHours(1), block.Ttl);
        Assert.Equal(AttackClass.Exfiltration, block.Cause!.Value.Class);

        MitigationRequest shape = Assert.Single(p.Decide(Alert(AttackClass.Exfiltration, 0.7)));
        Assert.Equal(MitigationKind.Shape, shape.Kind);
        Assert.NotNull(shape.Flow);
        Assert.Equal(ShapeRate.Bytes(131072), shape.Rate);
        Assert.Equal(TimeSpan.FromMinutes(10), shape.Ttl);

        Assert.Empty(p.Decide(Alert(AttackClass.Exfiltration, 0.3)));
        MitigationRequest isolate = Assert.Single(p.Decide(Alert(AttackClass.LateralMovement, 0.99)));
        Assert.Equal(MitigationKind.Isolate, isolate.Kind);
        Assert.Equal(IpNetwork.Parse("10.1.0.5"), isolate.Address);
        Assert.Equal("vm-a", isolate.Vm);
        Assert.Equal([IpNetwork.Parse("10.1.0.1")], isolate.Allow);
        MitigationRequest malware = Assert.Single(p.Decide(Alert(AttackClass.Malware, 0.95)));
        Assert.Equal((MitigationKind.Isolate, TimeSpan.FromMinutes(30)), (malware.Kind, malware.Ttl));
        Assert.Empty(p.Decide(Alert(AttackClass.Anomaly, 1)));
        MitigationRequest scan = Assert.Single(p.Decide(Alert(AttackClass.Scan, 0.9)));
        Assert.Equal((MitigationKind.Block, TrafficDirection.Outbound), (scan.Kind, scan.Direction));
    }

    [Fact]
    public void Rules_FirstMatchWins_AnyClass_ProtocolAndPortFromFlow_Prefix()
    {
        MitigationPolicy p = MitigationPolicy.Parse("""
            { "version": 1, "rules": [
              { "class": "scan", "min_confidence": 0.5, "actions": [ { "action": "block", "target": "source", "protocol": "flow", "port": "flow", "direction": "inbound", "prefix_length": 24 } ] },
              { "class": "any", "actions": [ { "action": "shape", "target": "vm", "packets_per_second": 50, "ttl_seconds": 30 } ] }
            ] }
            """);
        MitigationRequest a = Assert.Single(p.Decide(Alert(AttackClass.Scan, 0.6, dport: 22)));
        Assert.Equal(IpNetwork.Parse("10.1.0.0/24"), a.Address);
        Assert.Equal((6, 22, TrafficDirection.Inbound), (a.Protocol, a.Port, a.Direction));
        MitigationRequest b = Assert.Single(p.Decide(Alert(AttackClass.Scan, 0.4)));
        Assert.Equal(MitigationKind.Shape, b.Kind);
        Assert.Equal(ShapeRate.Packets(50), b.Rate);
        Assert.Equal(TimeSpan.FromSeconds(30), b.Ttl);
        Assert.Single(p.Decide(Alert(AttackClass.DnsTunnel, 0)));
    }

    [Theory]
    [InlineData("{ \"version\": 1, \"rules\": [ ", "not valid JSON (line 1")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{ \"rules\": [] }", "missing \"version\"")]
    [InlineData("{ \"version\": 2, \"rules\": [] }", "version 2 is not supported")]
    [InlineData("{ \"version\": 1 }", "rules: missing or not an array")]
    [InlineData("{ \"version\": 1, \"rule\": [] }", "unknown key \"rule\"")]
    [InlineData("{ \"version\": 1, \"allowlist\": [\"10.0.0.300\"], \"rules\": [] }", "allowlist[0]: \"10.0.0.300\" is not an IP address or CIDR")]
    [InlineData("{ \"version\": 1, \"budget_per_minute\": 0, \"rules\": [] }", "budget_per_minute: 0 is not a whole number from 1")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"worm\", \"actions\": [] } ] }", "rules[0].class: 'worm' is not a class (one of exfiltration, c2,")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"scan\", \"min_confidence\": 1.5, \"actions\": [] } ] }", "rules[0].min_confidence: 1.5 is not a number from 0 to 1")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"scan\", \"actions\": [] } ] }", "rules[0].actions: missing, empty")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"scan\", \"actions\": [ { \"action\": \"nuke\", \"target\": \"vm\" } ] } ] }", "rules[0].actions[0].action: 'nuke' is not an action")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"scan\", \"actions\": [ { \"action\": \"shape\", \"target\": \"flow\" } ] } ] }", "rules[0].actions[0]: shape needs exactly one of bytes_per_second and packets_per_second")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"scan\", \"actions\": [ { \"action\": \"block\", \"target\": \"source\", \"port\": 22 } ] } ] }", "port: a port needs \"protocol\"")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"scan\", \"actions\": [ { \"action\": \"isolate\", \"target\": \"flow\" } ] } ] }", "isolate acts on a VM or an address")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"scan\", \"actions\": [ { \"action\": \"block\", \"target\": \"flow\", \"ttl_seconds\": -5 } ] } ] }", "ttl_seconds: -5 is not a number of seconds above 0")]
    [InlineData("{ \"version\": 1, \"rules\": [ { \"class\": \"scan\", \"actions\": [ { \"action\": \"block\", \"target\": \"flow\", \"bytes_per_second\": 5 } ] } ] }", "belong to shape")]
    public void BadPolicyFiles_GiveClearErrors(string json, string expected)
    {
        var e = Assert.Throws<MitigationPolicyFormatException>(() => MitigationPolicy.Parse(json, "p.json"));
        Assert.StartsWith("p.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_IsAFormatErrorNamingTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fe-no-policy-{Guid.NewGuid():N}.json");
        var e = Assert.Throws<MitigationPolicyFormatException>(() => MitigationPolicy.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.200.1.1", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("192.168.1.77/24", "192.168.1.1", true)]
    [InlineData("fd00::/64", "fd00::1234", true)]
    [InlineData("fd00::/64", "fd00:0:0:1::1", false)]
    [InlineData("0.0.0.0/0", "8.8.8.8", true)]
    public void IpNetwork_Contains(string network, string address, bool inside)
    {
        IpNetwork n = IpNetwork.Parse(network);
        System.Net.IPAddress a = System.Net.IPAddress.Parse(address);
        Assert.Equal(inside, n.Contains(Ip(address), a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 4 : 6));
    }

    [Fact]
    public void IpNetwork_ParseOverlapAndText()
    {
        Assert.Equal("192.168.1.0/24", IpNetwork.Parse("192.168.1.77/24").ToString());
        Assert.Equal("10.0.0.1", IpNetwork.Parse("10.0.0.1").ToString());
        Assert.True(IpNetwork.Parse("10.0.0.0/8").Overlaps(IpNetwork.Parse("10.1.0.1")));
        Assert.True(IpNetwork.Parse("10.1.0.1").Overlaps(IpNetwork.Parse("10.0.0.0/8")));
        Assert.False(IpNetwork.Parse("10.1.0.1").Overlaps(IpNetwork.Parse("10.1.0.2")));
        Assert.False(IpNetwork.Parse("10.0.0.0/8").Overlaps(IpNetwork.Parse("fd00::/8")));
        foreach (string bad in new[] { "", "10.0.0.0/33", "10.0.0/8", "fd00::/129", "10.0.0.1/-1", "host" })
        {
            Assert.False(IpNetwork.TryParse(bad, out _), bad);
        }
    }
}
