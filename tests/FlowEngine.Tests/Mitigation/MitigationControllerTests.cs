// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Mitigation;
using static FlowEngine.Tests.Mitigation.MitigationTestData;

namespace FlowEngine.Tests.Mitigation;

public sealed class MitigationControllerTests : IDisposable
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(s_start);
    private readonly MemoryStream _auditStream = new();
    private readonly MitigationAuditLog _audit;
    private readonly RecordingHandler _handler = new();

    public MitigationControllerTests()
    {
        _audit = new MitigationAuditLog(_auditStream, ownsStream: false);
    }

    public void Dispose()
    {
        _audit.Dispose();
        _auditStream.Dispose();
    }

    private static MitigationPolicy Policy(int budget = 10, string allow = "\"10.1.0.1\", \"192.0.2.0/24\"", double ttl = 60) => MitigationPolicy.Parse($$"""
        { "version": 1, "budget_per_minute": {{budget}}, "ttl_seconds": {{ttl}}, "allowlist": [ {{allow}} ], "rules": [
          { "class": "c2", "actions": [ { "action": "block", "target": "destination" } ] },
          { "class": "exfiltration", "actions": [ { "action": "shape", "target": "flow", "bytes_per_second": 100000 } ] },
          { "class": "lateral_movement", "actions": [ { "action": "isolate", "target": "vm" } ] },
          { "class": "scan", "actions": [ { "action": "block", "target": "source", "prefix_length": 8 } ] }
        ] }
        """);

    private MitigationController Controller(MitigationPolicy policy, bool dryRun = false, bool packetTime = false) =>
        new(policy, _handler, _audit, new MitigationControllerOptions { DryRun = dryRun, Clock = _clock, ExpiryInterval = TimeSpan.Zero, PacketTime = packetTime, OwnsHandler = true });

    [Fact]
    public void Applies_AuditsDecidedThenApplied_WithTheAlert()
    {
        using (MitigationController c = Controller(Policy()))
        {
            c.OnAlert(Alert(AttackClass.CommandAndControl, 0.9));
            Assert.Equal(["apply block none 203.0.113.9 both any port any"], _handler.Calls);
            Assert.Single(c.InForce);
        }

        List<JsonElement> lines = Lines(_auditStream);
        Assert.Equal(["decided", "applied", "reverted"], lines.Select(Event));
        JsonElement applied = lines[1];
        Assert.Equal("recording", applied.GetProperty("handler").GetString());
        Assert.False(applied.GetProperty("dry_run").GetBoolean());
        Assert.Equal("2026-01-01T12:01:00.0000000Z", applied.GetProperty("expires").GetString());
        Assert.Equal("block", applied.GetProperty("action").GetProperty("kind").GetString());
        Assert.Equal("203.0.113.9", applied.GetProperty("action").GetProperty("address").GetString());
        Assert.Equal("c2", applied.GetProperty("alert").GetProperty("class").GetString());
        Assert.Equal(0.9, applied.GetProperty("alert").GetProperty("confidence").GetDouble());
        Assert.Equal("10.1.0.5", applied.GetProperty("alert").GetProperty("flow").GetProperty("source").GetString());
        Assert.Equal("exit", lines[2].GetProperty("reason").GetString());
        Assert.True(_handler.Disposed);
    }

    [Fact]
    public void Allowlist_NeverBlockedOrIsolated_EvenInsideAWiderTarget()
    {
        using MitigationController c = Controller(Policy());
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1, dst: "192.0.2.53"));           // resolver range
        c.OnAlert(Alert(AttackClass.LateralMovement, 1, src: "10.1.0.1"));              // gateway as the VM
        c.OnAlert(Alert(AttackClass.Scan, 1, src: "10.9.9.9"));                         // /8 would contain the gateway
        c.OnAlert(Alert(AttackClass.Exfiltration, 1, src: "10.1.0.1", dst: "192.0.2.7")); // both ends allowlisted
        Assert.Empty(_handler.Calls);
        Assert.Equal(4, c.Refused);
        c.OnAlert(Alert(AttackClass.Exfiltration, 1, src: "10.1.0.5", dst: "192.0.2.7"));  // one end is a VM: its flow may be shaped
        Assert.Single(_handler.Calls);
        string[] reasons = [.. Lines(_auditStream).Where(l => Event(l) == "refused").Select(l => l.GetProperty("reason").GetString()!)];
        Assert.Equal(4, reasons.Length);
        Assert.All(reasons, r => Assert.StartsWith("allowlist: ", r, StringComparison.Ordinal));
        Assert.Contains("10.0.0.0/8 overlaps allowlisted 10.1.0.1", reasons[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Isolate_CarriesTheAllowlist()
    {
        using MitigationController c = Controller(Policy());
        c.OnAlert(Alert(AttackClass.LateralMovement, 1));
        MitigationRequest isolate = Assert.Single(c.InForce);
        Assert.Equal([IpNetwork.Parse("10.1.0.1"), IpNetwork.Parse("192.0.2.0/24")], isolate.Allow);
    }

    [Fact]
    public void Budget_RefusesExcessInAnyMinute_ThenRecovers()
    {
        using MitigationController c = Controller(Policy(budget: 3, ttl: 3600));
        for (int i = 0; i < 5; i++)
        {
            c.OnAlert(Alert(AttackClass.CommandAndControl, 1, dst: $"203.0.113.{10 + i}"));
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, _handler.Calls.Count);
        Assert.Equal(2, c.Refused);
        List<JsonElement> refused = [.. Lines(_auditStream).Where(l => Event(l) == "refused")];
        Assert.All(refused, l => Assert.StartsWith("budget: 3 actions in the last minute", l.GetProperty("reason").GetString(), StringComparison.Ordinal));

        _clock.Advance(TimeSpan.FromSeconds(55)); // t = 60 s: the first action (t = 0) has left the window, the second (t = 1) not
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1, dst: "203.0.113.50"));
        Assert.Equal(4, _handler.Calls.Count);
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1, dst: "203.0.113.51"));
        Assert.Equal(4, _handler.Calls.Count);
    }

    [Fact]
    public void Duplicate_NotAppliedTwiceWhileInForce_AgainAfterRevert()
    {
        using MitigationController c = Controller(Policy());
        c.OnAlert(Alert(AttackClass.Exfiltration, 1));
        c.OnAlert(Alert(AttackClass.Exfiltration, 1, src: "203.0.113.9", sport: 443, dst: "10.1.0.5", dport: 40000)); // the same flow, seen the other way
        Assert.Single(_handler.Calls);
        JsonElement refused = Assert.Single(Lines(_auditStream), l => Event(l) == "refused");
        Assert.StartsWith("duplicate: already in force until 2026-01-01T12:01:00Z", refused.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(c.Revert(c.InForce[0].Key));
        c.OnAlert(Alert(AttackClass.Exfiltration, 1));
        Assert.Equal(3, _handler.Calls.Count);
        Assert.StartsWith("apply", _handler.Calls[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Ttl_RevertsOnTheInjectedClock()
    {
        using MitigationController c = Controller(Policy(ttl: 30));
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1));
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, c.ExpireDue());
        Assert.Single(_handler.InForce);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, c.ExpireDue());
        Assert.Empty(_handler.InForce);
        Assert.Empty(c.InForce);
        JsonElement reverted = Lines(_auditStream).Last();
        Assert.Equal(("reverted", "ttl"), (Event(reverted), reverted.GetProperty("reason").GetString()));
        Assert.Equal("2026-01-01T12:00:30.0000000Z", reverted.GetProperty("time").GetString());
    }

    [Fact]
    public void Ttl_OnPacketTime_FollowsAlertsAndAdvanceTo()
    {
        using MitigationController c = Controller(Policy(ttl: 10), packetTime: true);
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1, ns: 5_000_000_000));
        Assert.Equal(5_000_000_000, c.NowNs);
        Assert.Equal(0, c.AdvanceTo(14_999_999_999));
        Assert.Equal(1, c.AdvanceTo(15_000_000_000));
        Assert.Empty(_handler.InForce);

        // An alert late in packet time expires what is due before it acts.
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1, dst: "203.0.113.20", ns: 20_000_000_000));
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1, dst: "203.0.113.21", ns: 40_000_000_000));
        Assert.Equal(["apply", "revert", "apply", "revert", "apply"], _handler.Calls.Select(s => s.Split(' ')[0]));
    }

    [Fact]
    public void DryRun_AppliesNothing_AuditsSimulated_KeepsTheSameBookkeeping()
    {
        using (MitigationController c = Controller(Policy(budget: 2), dryRun: true))
        {
            Assert.True(c.DryRun);
            c.OnAlert(Alert(AttackClass.CommandAndControl, 1));
            c.OnAlert(Alert(AttackClass.CommandAndControl, 1));                        // duplicate
            c.OnAlert(Alert(AttackClass.Exfiltration, 1));
            c.OnAlert(Alert(AttackClass.LateralMovement, 1));                          // over budget
            c.OnAlert(Alert(AttackClass.CommandAndControl, 1, dst: "10.1.0.1"));       // allowlisted
            Assert.Equal(2, c.InForce.Count);
            _clock.Advance(TimeSpan.FromMinutes(2));
            Assert.Equal(2, c.ExpireDue());
        }

        Assert.Empty(_handler.Calls);
        List<JsonElement> lines = Lines(_auditStream);
        Assert.All(lines, l => Assert.True(l.GetProperty("dry_run").GetBoolean()));
        Assert.Equal(["decided", "simulated", "decided", "refused", "decided", "simulated", "decided", "refused", "decided", "refused", "reverted", "reverted"], lines.Select(Event));
        Assert.DoesNotContain(lines, l => Event(l) == "applied");
    }

    [Fact]
    public void DryRunHandler_IsDryRunEvenWhenTheOptionSaysOtherwise()
    {
        using var c = new MitigationController(Policy(), new DryRunMitigationHandler(), _audit, new MitigationControllerOptions { DryRun = false, Clock = _clock, ExpiryInterval = TimeSpan.Zero });
        Assert.True(c.DryRun);
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1));
        Assert.Equal("simulated", Event(Lines(_auditStream)[1]));
    }

    [Fact]
    public void HandlerFailure_IsAudited_NotInForce_AndCleanedUp()
    {
        _handler.FailWith = "nft: Operation not permitted";
        using MitigationController c = Controller(Policy());
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1));
        Assert.Empty(c.InForce);
        Assert.Equal(1, c.Failed);
        Assert.Equal(["apply", "revert"], _handler.Calls.Select(s => s.Split(' ')[0]));
        JsonElement failed = Lines(_auditStream)[1];
        Assert.Equal(("failed", "nft: Operation not permitted"), (Event(failed), failed.GetProperty("reason").GetString()));
    }

    [Fact]
    public void Dispose_RevertsEverything_AndIgnoresLaterAlerts()
    {
        MitigationController c = Controller(Policy());
        c.OnAlert(Alert(AttackClass.CommandAndControl, 1));
        c.OnAlert(Alert(AttackClass.Exfiltration, 1));
        c.OnAlert(Alert(AttackClass.LateralMovement, 1));
        Assert.Equal(3, _handler.InForce.Count);
        c.Dispose();
        Assert.Empty(_handler.InForce);
        Assert.Equal(3, c.Reverted);
        c.OnAlert(Alert(AttackClass.Scan, 1));
        Assert.Equal(6, _handler.Calls.Count);
        Assert.Throws<ObjectDisposedException>(() => c.Submit(MitigationRequest.BlockAddress(IpNetwork.Parse("198.51.100.1"), default)));
    }

    [Fact]
    public void Submit_GoesThroughTheSameSafetyRules()
    {
        using MitigationController c = Controller(Policy());
        Assert.Equal(AuditEvent.Refused, c.Submit(MitigationRequest.BlockAddress(IpNetwork.Parse("192.0.2.0/25"), default)));
        Assert.Equal(AuditEvent.Applied, c.Submit(MitigationRequest.BlockAddress(IpNetwork.Parse("198.51.100.0/24"), default, TrafficDirection.Inbound, 6, 22)));
        Assert.Equal(AuditEvent.Refused, c.Submit(MitigationRequest.BlockAddress(IpNetwork.Parse("198.51.100.0/24"), default, TrafficDirection.Inbound, 6, 22)));
        Assert.Equal(["apply block none 198.51.100.0/24 inbound tcp port 22"], _handler.Calls);
    }
}
