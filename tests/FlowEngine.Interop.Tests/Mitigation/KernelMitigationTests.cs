// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Interop.Mitigation;
using FlowEngine.Mitigation;
using FlowEngine.Packets;
using Xunit.Abstractions;

namespace FlowEngine.Interop.Tests.Mitigation;

/// <summary>
/// The nftables and tc handlers against the kernel, with real traffic through a router namespace
/// (<see cref="MitigationLab"/>). One class, so the tests run one after another (the throughput test wants the CPU).
/// </summary>
public sealed class KernelMitigationTests(ITestOutputHelper output) : IDisposable
{
    private readonly MitigationLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private static IpAddress Ip(string text) => IpAddress.From(IPAddress.Parse(text));

    private FlowIdentity VmToPeer(ushort sport, ushort dport) =>
        new(VirtualNetworkId.None, 4, 17, Ip(_lab.VmAddress), sport, Ip(_lab.PeerAddress), dport, 0);

    private NftablesMitigationHandler Nft() => new(new NftablesHandlerOptions { NetworkNamespace = _lab.Router });

    private string RouterRuleset() => MitigationLab.InNs(_lab.Router, "nft", "list", "ruleset");

    [Fact]
    public void BlockFlow_KernelDropsItsPackets_CountedByRuleAndReceiver_OtherFlowPasses()
    {
        int[] ports = [7001, 7002];
        Dictionary<string, int> before = _lab.Receive([_lab.PeerAddress], ports, () =>
        {
            _lab.SendFromVm(_lab.PeerAddress, 40001, 7001, 20);
            _lab.SendFromVm(_lab.PeerAddress, 40002, 7002, 20);
        });
        Assert.Equal((20, 20), (before[$"{_lab.PeerAddress}:7001"], before[$"{_lab.PeerAddress}:7002"]));

        using NftablesMitigationHandler nft = Nft();
        var block = MitigationRequest.BlockFlow(VmToPeer(40001, 7001));
        nft.Apply(block);
        nft.Apply(block); // idempotent: still one set of rules
        Assert.Equal(6, nft.Counters(block).Rules); // two directions x forward, input, output
        Assert.Contains("inet flowengine", RouterRuleset(), StringComparison.Ordinal);

        Dictionary<string, int> after = _lab.Receive([_lab.PeerAddress], ports, () =>
        {
            Assert.Equal(200, _lab.SendFromVm(_lab.PeerAddress, 40001, 7001, 200));
            Assert.Equal(100, _lab.SendFromVm(_lab.PeerAddress, 40002, 7002, 100));
            Assert.Equal(50, _lab.SendFromVm(_lab.PeerAddress, 40003, 7001, 50)); // same ports, another source port: another flow
        });
        Assert.Equal(50, after[$"{_lab.PeerAddress}:7001"]);
        Assert.Equal(100, after[$"{_lab.PeerAddress}:7002"]);
        Assert.Equal(200, nft.Counters(block).Packets);

        nft.Revert(block);
        Assert.Equal(0, nft.Counters(block).Rules);
        Dictionary<string, int> reverted = _lab.Receive([_lab.PeerAddress], ports, () => _lab.SendFromVm(_lab.PeerAddress, 40001, 7001, 20));
        Assert.Equal(20, reverted[$"{_lab.PeerAddress}:7001"]);

        nft.Dispose();
        Assert.DoesNotContain("flowengine", RouterRuleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void BlockAddress_ByProtocolPortAndDirection()
    {
        using NftablesMitigationHandler nft = Nft();
        var block = MitigationRequest.BlockAddress(IpNetwork.Parse(_lab.PeerAddress), default, TrafficDirection.Inbound, 17, 7002);
        nft.Apply(block);
        Dictionary<string, int> got = _lab.Receive([_lab.PeerAddress], [7001, 7002], () =>
        {
            _lab.SendFromVm(_lab.PeerAddress, 40001, 7001, 30);
            _lab.SendFromVm(_lab.PeerAddress, 40002, 7002, 30);
        });
        Assert.Equal((30, 0), (got[$"{_lab.PeerAddress}:7001"], got[$"{_lab.PeerAddress}:7002"]));
        Assert.Equal(30, nft.Counters(block).Packets);
        Assert.True(MitigationLab.Ping(_lab.Vm, _lab.PeerAddress)); // ICMP to it is not blocked
    }

    [Fact]
    public void Isolate_ViaPolicyAndController_VmReachesOnlyTheAllowlist_TtlRestoresEverything_NothingLeft()
    {
        var clock = new FixedClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var auditStream = new MemoryStream();
        using var audit = new MitigationAuditLog(auditStream, ownsStream: false);
        MitigationPolicy policy = MitigationPolicy.Parse($$"""
            { "version": 1, "allowlist": [ "{{_lab.Gateway}}", "{{_lab.ResolverAddress}}" ],
              "rules": [ { "class": "lateral_movement", "min_confidence": 0.9, "actions": [ { "action": "isolate", "target": "vm", "ttl_seconds": 30 } ] } ] }
            """);
        var controller = new MitigationController(policy, Nft(), audit, new MitigationControllerOptions { DryRun = false, Clock = clock, ExpiryInterval = TimeSpan.Zero });
        try
        {
            var alert = new Alert(1, AttackClass.LateralMovement, 9, new FlowIdentity(VirtualNetworkId.None, 4, 6, Ip(_lab.VmAddress), 50000, Ip(_lab.PeerAddress), 22, 1)) { Confidence = 0.95, Vm = "vm-a" };
            controller.OnAlert(alert);
            Assert.Equal(1, controller.Applied);

            Assert.True(MitigationLab.Ping(_lab.Vm, _lab.Gateway), "the gateway is allowlisted");
            Assert.True(MitigationLab.Ping(_lab.Vm, _lab.ResolverAddress), "the resolver is allowlisted");
            Assert.False(MitigationLab.Ping(_lab.Vm, _lab.PeerAddress), "the peer is not");
            Assert.False(MitigationLab.Ping(_lab.Vm, _lab.RouterPeerAddress), "nor the router's other address");
            Assert.False(MitigationLab.Ping(_lab.Peer, _lab.VmAddress), "nothing comes in either");
            Dictionary<string, int> got = _lab.Receive([_lab.PeerAddress, _lab.ResolverAddress], [53], () =>
            {
                _lab.SendFromVm(_lab.PeerAddress, 40001, 53, 40);
                _lab.SendFromVm(_lab.ResolverAddress, 40002, 53, 40);
            });
            Assert.Equal((0, 40), (got[$"{_lab.PeerAddress}:53"], got[$"{_lab.ResolverAddress}:53"]));

            clock.Now += TimeSpan.FromSeconds(30);
            Assert.Equal(1, controller.ExpireDue());
            Assert.True(MitigationLab.Ping(_lab.Vm, _lab.PeerAddress), "after the TTL the peer is reachable again");
            Assert.True(MitigationLab.Ping(_lab.Peer, _lab.VmAddress));
            Assert.DoesNotContain("drop", RouterRuleset(), StringComparison.Ordinal);
        }
        finally
        {
            controller.Dispose();
        }

        Assert.DoesNotContain("flowengine", RouterRuleset(), StringComparison.Ordinal);
        string[] events = [.. Encoding.UTF8.GetString(auditStream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetString()!)];
        Assert.Equal(["decided", "applied", "reverted"], events);
    }

    [Fact]
    public void NetworkInterfaces_ConfineAnActionToItsVirtualNetworksInterface()
    {
        var vni7 = new VirtualNetworkId(VirtualNetworkKind.Vxlan, 7);
        using var nft = new NftablesMitigationHandler(new NftablesHandlerOptions
        {
            NetworkNamespace = _lab.Router,
            NetworkInterfaces = new Dictionary<VirtualNetworkId, string> { [VirtualNetworkId.None] = _lab.RouterVmSide, [vni7] = _lab.RouterPeerSide },
        });

        // The VM's network is on the VM-side interface: its packets come in there and are dropped.
        var inNetwork = MitigationRequest.BlockAddress(IpNetwork.Parse(_lab.VmAddress), VirtualNetworkId.None, TrafficDirection.Outbound, 17, 7001);
        // The same block said to be in a network whose interface is the uplink: the VM's packets never enter there.
        var otherNetwork = MitigationRequest.BlockAddress(IpNetwork.Parse(_lab.VmAddress), vni7, TrafficDirection.Outbound, 17, 7002);
        Assert.Contains($"iifname \"{_lab.RouterVmSide}\"", nft.RulesOf(inNetwork), StringComparison.Ordinal);
        nft.Apply(inNetwork);
        nft.Apply(otherNetwork);
        Dictionary<string, int> got = _lab.Receive([_lab.PeerAddress], [7001, 7002], () =>
        {
            _lab.SendFromVm(_lab.PeerAddress, 40001, 7001, 30);
            _lab.SendFromVm(_lab.PeerAddress, 40002, 7002, 30);
        });
        Assert.Equal((0, 30), (got[$"{_lab.PeerAddress}:7001"], got[$"{_lab.PeerAddress}:7002"]));
        Assert.Equal((30, 0), (nft.Counters(inNetwork).Packets, nft.Counters(otherNetwork).Packets));
    }

    [Fact]
    public void Nftables_ReplacesATableLeftByAnEarlierRun_DisposeLeavesNothing()
    {
        var block = MitigationRequest.BlockAddress(IpNetwork.Parse(_lab.PeerAddress), default);
        NftablesMitigationHandler crashed = Nft();
        crashed.Apply(block); // never disposed: a run that died
        Assert.Equal(2 * 3, crashed.Counters(block).Rules);
        using (NftablesMitigationHandler next = Nft())
        {
            Assert.Equal(0, next.Counters(block).Rules);
            Assert.True(MitigationLab.Ping(_lab.Vm, _lab.PeerAddress));
        }

        Assert.DoesNotContain("flowengine", RouterRuleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void TcShape_Iperf3ThroughputWithinTenPercentOfTheLimit_RevertAndDisposeLeaveNothing()
    {
        const long limitBytes = 1_250_000; // 10 Mbit/s
        Process server = _lab.Start(_lab.Peer, "iperf3", "-s", "-1", "-B", _lab.PeerAddress, "-p", "5201");
        WaitForPort(_lab.Peer, _lab.PeerAddress, 5201);

        using var tc = new TcMitigationHandler(new TcHandlerOptions { NetworkNamespace = _lab.Router, Devices = [_lab.RouterPeerSide] });
        var shape = MitigationRequest.ShapeAddress(IpNetwork.Parse(_lab.VmAddress), default, ShapeRate.Bytes(limitBytes));
        tc.Apply(shape);
        tc.Apply(shape); // idempotent
        string classes = MitigationLab.InNs(_lab.Router, "tc", "class", "show", "dev", _lab.RouterPeerSide);
        Assert.Single(classes.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // 3 s measured after 1 s omitted (slow start and the bucket's burst).
        string json = MitigationLab.InNs(_lab.Vm, "iperf3", "-c", _lab.PeerAddress, "-p", "5201", "-t", "3", "-O", "1", "-J");
        double received = JsonDocument.Parse(json).RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble() / 8;
        output.WriteLine($"tc HTB at {limitBytes} B/s: iperf3 received {received:0} B/s ({received / limitBytes:P1} of the limit)");
        Assert.True(Math.Abs(received - limitBytes) <= 0.10 * limitBytes, $"iperf3 received {received:0} B/s for a limit of {limitBytes} B/s");
        server.WaitForExit(5000);

        tc.Revert(shape);
        Assert.Empty(MitigationLab.InNs(_lab.Router, "tc", "class", "show", "dev", _lab.RouterPeerSide).Trim());
        Assert.Empty(MitigationLab.InNs(_lab.Router, "tc", "filter", "show", "dev", _lab.RouterPeerSide).Trim());
        tc.Dispose();
        Assert.DoesNotContain("htb", MitigationLab.InNs(_lab.Router, "tc", "qdisc", "show", "dev", _lab.RouterPeerSide), StringComparison.Ordinal);
    }

    [Fact]
    public void Tc_RefusesBlockAndPacketRates_AndAForeignRootQdisc()
    {
        using var tc = new TcMitigationHandler(new TcHandlerOptions { NetworkNamespace = _lab.Router, Devices = [_lab.RouterVmSide] });
        Assert.Throws<MitigationHandlerException>(() => tc.Apply(MitigationRequest.BlockAddress(IpNetwork.Parse(_lab.VmAddress), default)));
        Assert.Throws<MitigationHandlerException>(() => tc.Apply(MitigationRequest.ShapeAddress(IpNetwork.Parse(_lab.VmAddress), default, ShapeRate.Packets(100))));
        MitigationLab.InNs(_lab.Router, "tc", "qdisc", "add", "dev", _lab.RouterVmSide, "root", "handle", "5:", "tbf", "rate", "1mbit", "burst", "16kb", "latency", "50ms");
        var e = Assert.Throws<MitigationHandlerException>(() => tc.Apply(MitigationRequest.ShapeAddress(IpNetwork.Parse(_lab.VmAddress), default, ShapeRate.Bytes(100_000))));
        Assert.Contains("root qdisc of its own", e.Message, StringComparison.Ordinal);
        tc.Dispose();
        Assert.Contains("tbf", MitigationLab.InNs(_lab.Router, "tc", "qdisc", "show", "dev", _lab.RouterVmSide), StringComparison.Ordinal);
    }

    [Fact]
    public void NftablesShape_PolicesTheFlow()
    {
        using NftablesMitigationHandler nft = Nft();
        // 20 packets/s with a burst of 5: of 200 datagrams over ~0.4 s, about 5 + 0.4 * 20 pass.
        var shape = MitigationRequest.ShapeFlow(VmToPeer(40001, 7001), ShapeRate.Packets(20, 5));
        nft.Apply(shape);
        Dictionary<string, int> got = _lab.Receive([_lab.PeerAddress], [7001], () => _lab.SendFromVm(_lab.PeerAddress, 40001, 7001, 200));
        int passed = got[$"{_lab.PeerAddress}:7001"];
        output.WriteLine($"nftables limit 20/s burst 5: {passed} of 200 datagrams passed");
        Assert.InRange(passed, 5, 40);
        Assert.Equal(200 - passed, nft.Counters(shape).Packets);
        nft.Dispose();
        Assert.DoesNotContain("flowengine", RouterRuleset(), StringComparison.Ordinal);
    }

    private static void WaitForPort(string ns, string address, int port)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (MitigationLab.TryInNs(ns, "ss", "-ltnH", $"sport = :{port}").Contains(address, StringComparison.Ordinal))
            {
                return;
            }

            Thread.Sleep(50);
        }

        Assert.Fail($"nothing listens on {address}:{port} in {ns}");
    }

    private sealed class FixedClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
