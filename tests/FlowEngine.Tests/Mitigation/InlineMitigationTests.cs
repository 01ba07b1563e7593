// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Mitigation;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;
using static FlowEngine.Tests.Mitigation.MitigationTestData;

namespace FlowEngine.Tests.Mitigation;

/// <summary>The inline handler on the engine's forwarding path: frames through FlowPipeline.ProcessInlineBatch.</summary>
public sealed class InlineMitigationTests : IDisposable
{
    private const long Ms = 1_000_000;
    private readonly FlowPipeline _pipeline = new(FlowSink.ToList([]), new FlowPipelineOptions { BatchSize = 64 });
    private readonly InlineMitigationHandler _inline = new(buckets: 16);
    private readonly PacketBatch _batch = new(64, copyArenaBytes: 1 << 20);
    private readonly PacketVerdict[] _verdicts = new PacketVerdict[64];

    public void Dispose()
    {
        _inline.Dispose();
        _pipeline.Dispose();
    }

    private static byte[] TcpFrame(string src, ushort sport, string dst, ushort dport, int payload) =>
        Frames.Ethernet(0x0800, Frames.IPv4(src, dst, 6, Frames.Tcp(sport, dport, 0x18, new byte[payload])));

    private static byte[] UdpFrame(string src, ushort sport, string dst, ushort dport) =>
        Frames.Ethernet(0x0800, Frames.IPv4(src, dst, 17, Frames.Udp(sport, dport, new byte[20])));

    /// <summary>Sends frames in batches (at their given times); returns the bytes forwarded per frame index class.</summary>
    private (int Forwarded, long ForwardedBytes) Send(IEnumerable<(byte[] Frame, long Ns)> frames)
    {
        int forwarded = 0;
        long bytes = 0;
        foreach ((byte[] Frame, long Ns)[] chunk in frames.Chunk(64))
        {
            _batch.Clear();
            foreach ((byte[] frame, long ns) in chunk)
            {
                Assert.True(_batch.TryAppendCopy(frame, frame.Length, ns, LinkType.Ethernet));
            }

            _pipeline.ProcessInlineBatch(_batch, _inline, _verdicts);
            for (int i = 0; i < chunk.Length; i++)
            {
                if (_verdicts[i] == PacketVerdict.Forward)
                {
                    forwarded++;
                    bytes += chunk[i].Frame.Length;
                }
            }
        }

        return (forwarded, bytes);
    }

    private List<uint> Marks()
    {
        var marks = new List<uint>();
        for (int slot = 0; slot < _pipeline.Table.Capacity; slot++)
        {
            if (_pipeline.Table.TryGetHandle(slot, out FlowHandle h) && _pipeline.Table.TryGetMark(h, out uint m) && m != 0)
            {
                marks.Add(m);
            }
        }

        return marks;
    }

    private static FlowIdentity Flow(string src, ushort sport, string dst, ushort dport, byte protocol = 6) =>
        new(VirtualNetworkId.None, 4, protocol, Ip(src), sport, Ip(dst), dport, 0);

    [Fact]
    public void ShapeFlow_HoldsTheRate_FromTheSlotsMark_OtherFlowsUntouched_RevertClearsIt()
    {
        byte[] shaped = TcpFrame("10.1.0.5", 40000, "203.0.113.9", 443, 946); // 1000-byte frames
        byte[] other = TcpFrame("10.1.0.5", 40001, "203.0.113.9", 443, 946);
        Assert.Equal(1000, shaped.Length);
        Send([(shaped, 0), (other, 0)]); // both flows exist before the action, as for an alert on a running flow

        var action = MitigationRequest.ShapeFlow(Flow("203.0.113.9", 443, "10.1.0.5", 40000), ShapeRate.Bytes(100_000, 10_000));
        _inline.Apply(action);
        _inline.Apply(action); // idempotent
        Assert.Equal(1, _inline.Count);

        // 2 s at 1 MB/s offered (one frame per ms): 100 kB/s for 2 s plus the 10 kB bucket may pass.
        (int forwarded, long bytes) = Send(Enumerable.Range(1, 2000).Select(i => (shaped, i * Ms)));
        Assert.InRange(bytes, 200_000, 212_000);
        Assert.True(_inline.TryGetMark(action.Key, out uint mark));
        Assert.Equal(FlowAction.Shape, (FlowAction)(byte)mark);
        Assert.Contains(mark, Marks());
        Assert.True(_inline.Shaper.TryGetCounts(mark, out long passed, out long dropped));
        Assert.Equal((forwarded, 2000 - forwarded), (passed, dropped));

        (int otherForwarded, _) = Send(Enumerable.Range(1, 500).Select(i => (other, 2000 * Ms + (i * Ms))));
        Assert.Equal(500, otherForwarded);

        _inline.Revert(action);
        Assert.Equal(0, _inline.Count);
        (int after, _) = Send(Enumerable.Range(1, 500).Select(i => (shaped, 3000 * Ms + (i * Ms))));
        Assert.Equal(500, after);
        Assert.DoesNotContain(Marks(), m => (FlowAction)(byte)m == FlowAction.Shape); // the stale mark was cleared
    }

    [Fact]
    public void ShapeAddress_OneBucketForEveryFlowOfTheVm_PacketsPerSecond()
    {
        _inline.Apply(MitigationRequest.ShapeAddress(IpNetwork.Parse("10.1.0.5"), default, ShapeRate.Packets(100, 10)));
        // Ten flows of the VM, 1000 packets in all over 1 s: 100 pkt/s shared plus the 10-packet bucket.
        (int forwarded, _) = Send(Enumerable.Range(0, 1000).Select(i => (UdpFrame("10.1.0.5", (ushort)(5000 + (i % 10)), "198.51.100.1", 53), i * Ms)));
        Assert.InRange(forwarded, 108, 112);
        Assert.Equal(10, Marks().Count);
        Assert.Single(Marks().Distinct());
        (int others, _) = Send(Enumerable.Range(0, 100).Select(i => (UdpFrame("10.1.0.6", 5000, "198.51.100.1", 53), 1000 * Ms + i)));
        Assert.Equal(100, others);
    }

    [Fact]
    public void BlockFlow_DropsBothDirections_OnlyThatFlow()
    {
        _inline.Apply(MitigationRequest.BlockFlow(Flow("10.1.0.5", 40000, "203.0.113.9", 443)));
        (int a, _) = Send(Enumerable.Range(0, 50).Select(i => (TcpFrame("10.1.0.5", 40000, "203.0.113.9", 443, 10), i * Ms)));
        (int b, _) = Send(Enumerable.Range(0, 50).Select(i => (TcpFrame("203.0.113.9", 443, "10.1.0.5", 40000, 10), (50 + i) * Ms)));
        (int c, _) = Send(Enumerable.Range(0, 50).Select(i => (TcpFrame("10.1.0.5", 40002, "203.0.113.9", 443, 10), (100 + i) * Ms)));
        Assert.Equal((0, 0, 50), (a, b, c));
    }

    [Fact]
    public void BlockAddress_ByDirectionProtocolPort_AndIsolate_ExceptTheAllowlist()
    {
        _inline.Apply(MitigationRequest.BlockAddress(IpNetwork.Parse("10.1.0.7"), default, TrafficDirection.Inbound, 6, 22));
        Assert.Equal(0, Send([(TcpFrame("10.1.0.9", 50000, "10.1.0.7", 22, 0), 1)]).Forwarded);
        Assert.Equal(1, Send([(TcpFrame("10.1.0.9", 50000, "10.1.0.7", 80, 0), 2)]).Forwarded);
        Assert.Equal(1, Send([(TcpFrame("10.1.0.7", 50000, "10.1.0.9", 22, 0), 3)]).Forwarded); // outbound SSH is not blocked

        _inline.Apply(MitigationRequest.Isolate(IpNetwork.Parse("10.1.0.5"), default, [IpNetwork.Parse("10.1.0.1"), IpNetwork.Parse("192.0.2.0/24")]));
        Assert.Equal(0, Send([(UdpFrame("10.1.0.5", 5000, "198.51.100.1", 53), 10)]).Forwarded);
        Assert.Equal(0, Send([(UdpFrame("198.51.100.1", 53, "10.1.0.5", 5000), 11)]).Forwarded);
        Assert.Equal(1, Send([(UdpFrame("10.1.0.5", 5000, "192.0.2.53", 53), 12)]).Forwarded);
        Assert.Equal(1, Send([(UdpFrame("10.1.0.1", 67, "10.1.0.5", 68), 13)]).Forwarded);
        Assert.Throws<MitigationHandlerException>(() => _inline.Apply(MitigationRequest.BlockAddress(IpNetwork.Parse("10.1.0.5"), default)));
        Assert.Throws<MitigationHandlerException>(() => _inline.Apply(MitigationRequest.BlockAddress(IpNetwork.Parse("10.1.0.0/24"), default)));

        _inline.Dispose();
        Assert.Equal(1, Send([(UdpFrame("10.1.0.5", 5000, "198.51.100.1", 53), 20)]).Forwarded);
        Assert.Equal(0, _inline.Table.Count);
    }

    [Fact]
    public void IsolateAfterShape_ShapedFlowsAreIsolatedToo()
    {
        byte[] frame = UdpFrame("10.1.0.5", 5000, "198.51.100.1", 53);
        _inline.Apply(MitigationRequest.ShapeAddress(IpNetwork.Parse("10.1.0.5"), default, ShapeRate.Packets(1000, 1000)));
        Assert.Equal(1, Send([(frame, 1)]).Forwarded);
        _inline.Apply(MitigationRequest.Isolate(IpNetwork.Parse("10.1.0.5"), default, []));
        Assert.Equal(0, Send([(frame, 2)]).Forwarded);
    }

    [Fact]
    public void Controller_WithInlineHandler_TtlRestoresTraffic()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var audit = new MitigationAuditLog(new MemoryStream());
        MitigationPolicy policy = MitigationPolicy.Parse("""{ "version": 1, "rules": [ { "class": "dns_tunnel", "actions": [ { "action": "block", "target": "flow", "ttl_seconds": 5 } ] } ] }""");
        using var controller = new MitigationController(policy, _inline, audit, new MitigationControllerOptions { DryRun = false, Clock = clock, ExpiryInterval = TimeSpan.Zero, OwnsHandler = false });
        byte[] frame = UdpFrame("10.1.0.5", 5000, "198.51.100.1", 53);
        controller.OnAlert(Alert(AttackClass.DnsTunnel, 1, sport: 5000, dst: "198.51.100.1", dport: 53, protocol: 17));
        Assert.Equal(0, Send([(frame, 1)]).Forwarded);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, controller.ExpireDue());
        Assert.Equal(1, Send([(frame, 2)]).Forwarded);
    }
}
