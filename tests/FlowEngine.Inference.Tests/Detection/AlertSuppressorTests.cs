// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using FlowEngine.Flows;
using FlowEngine.Inference.Detection;
using FlowEngine.Inference.Features;
using FlowEngine.Packets;

namespace FlowEngine.Inference.Tests.Detection;

/// <summary>One alert per cause: floods and scans merge, separate causes stay apart, a quiet gap closes a cause.</summary>
public sealed class AlertSuppressorTests
{
    private const long Second = 1_000_000_000;

    private static readonly string[] s_heads = ["relation", "peer", "port", "app", "log_bytes", "log_gap"];

    private static FlowScore Alert(string vm, long t, string peer, ushort port, string head, float score = 50)
    {
        var record = new FlowRecord
        {
            FirstNs = t,
            LastNs = t + 1000,
            IpVersion = 4,
            Protocol = 6,
            DestinationPort = port,
            SourceAddress = IpAddress.From(IPAddress.Parse("10.0.0.41")),
            DestinationAddress = IpAddress.From(IPAddress.Parse(peer)),
        };
        HeadEvidence[] evidence = s_heads.Select(h => new HeadEvidence(h, h == head ? 40 : 1, 0, 0, 0.01f, 1)).ToArray();
        return new FlowScore(vm, record, FlowPerspective.Originator, true, score, evidence, 10, true, false);
    }

    [Fact]
    public void AFloodToOneHost_IsOneAlert_WithItsCountAndSpan()
    {
        var s = new AlertSuppressor(TimeSpan.FromMinutes(10));
        for (int i = 0; i < 1000; i++)
        {
            Assert.Empty(s.Add(Alert("vm-a", (100 * Second) + (i * Second / 100), "10.0.0.12", 80, "log_bytes", 50 + (i % 7))));
        }

        GroupedAlert g = Assert.Single(s.Flush());
        Assert.Equal(1000, g.Count);
        Assert.Equal(("vm-a", "log_bytes", "10.0.0.12"), (g.Vm, g.Cause, g.Target));
        Assert.Equal(100 * Second, g.FirstNs);
        Assert.Equal((100 * Second) + (999 * Second / 100) + 1000, g.LastNs);
        Assert.Equal(56, g.Strongest.Score);
        Assert.Equal(999, s.Suppressed);
    }

    [Fact]
    public void Scans_GroupByWhatTheyShare_AndVmsStayApart()
    {
        var s = new AlertSuppressor(TimeSpan.FromMinutes(10));
        var closed = new List<GroupedAlert>();
        for (int i = 1; i <= 50; i++)
        {
            // Horizontal: one port over many hosts (new peers); vertical: many ports on one host (new ports).
            closed.AddRange(s.Add(Alert("vm-a", i * Second, $"10.0.0.{i}", 445, "peer")));
            closed.AddRange(s.Add(Alert("vm-a", i * Second, "10.0.0.31", (ushort)(1000 + i), "port")));
            closed.AddRange(s.Add(Alert("vm-b", i * Second, "10.0.0.31", (ushort)(1000 + i), "port")));
        }

        closed.AddRange(s.Flush());
        Assert.Equal(3, closed.Count);
        Assert.Contains(closed, g => g.Vm == "vm-a" && g.Cause == "peer" && g.Target == "6/445" && g.Count == 50);
        Assert.Contains(closed, g => g.Vm == "vm-a" && g.Cause == "port" && g.Target == "10.0.0.31" && g.Count == 50);
        Assert.Contains(closed, g => g.Vm == "vm-b" && g.Count == 50);
    }

    [Fact]
    public void AQuietGapLongerThanTheWindow_ClosesTheCause_InPacketTime()
    {
        var s = new AlertSuppressor(TimeSpan.FromSeconds(60));
        Assert.Empty(s.Add(Alert("vm-a", 0, "10.0.0.12", 80, "app")));
        Assert.Empty(s.Add(Alert("vm-a", 59 * Second, "10.0.0.12", 80, "app")));
        GroupedAlert first = Assert.Single(s.Add(Alert("vm-a", 200 * Second, "10.0.0.12", 80, "app")));
        Assert.Equal(2, first.Count);
        Assert.Equal(1, Assert.Single(s.Flush()).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlertSuppressor(TimeSpan.Zero));
    }
}
