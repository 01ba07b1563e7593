// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Mitigation;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Flows;

public class FlowExtensionTests
{
    private const long Second = 1_000_000_000;
    private static readonly long s_t0 = 1_700_000_000 * Second;

    /// <summary>State per slot in arrays, as an extension keeps it; a budget of packets per flow.</summary>
    private sealed class Recorder(int budget)
    {
        public int[] Starts = [];
        public int[] Packets = [];
        public int[] FirstFrameLength = [];
        public bool[] FirstFromOriginator = [];
        public int[] EmittedPackets = [];
        public readonly List<string> Log = [];
        public int Budget = budget;
        public int Delivered;
    }

    private readonly struct RecordingExtension(Recorder r) : IFlowExtension
    {
        public int MaskBits => 1;

        public bool WantsPackets => true;

        public bool WantsEmit => true;

        public void Initialize(in FlowExtensionContext context)
        {
            r.Starts = new int[context.Capacity];
            r.Packets = new int[context.Capacity];
            r.FirstFrameLength = new int[context.Capacity];
            r.FirstFromOriginator = new bool[context.Capacity];
            r.EmittedPackets = new int[context.RecordBatchSize];
        }

        public uint OnStart(int slot, in DecodedPacket firstPacket, ReadOnlySpan<byte> frame, bool firstFromOriginator)
        {
            r.Starts[slot]++;
            r.Packets[slot] = 0;
            r.FirstFrameLength[slot] = -1;
            r.FirstFromOriginator[slot] = firstFromOriginator;
            return 1;
        }

        public uint OnPacket(int slot, uint mask, in DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator)
        {
            if (r.Packets[slot]++ == 0)
            {
                r.FirstFrameLength[slot] = frame.Length;
            }

            return r.Packets[slot] >= r.Budget ? 0u : 1u;
        }

        public void OnEmit(int slot, int recordIndex, in FlowRecord record)
        {
            r.EmittedPackets[recordIndex] = r.Packets[slot];
            r.Log.Add($"emit {slot} {record.EndReason}");
        }

        public void OnDelivered(int count) => r.Delivered += count;
    }

    /// <summary>Checks at delivery that each record's extension data sits at the record's index.</summary>
    private sealed class CheckingSink(Recorder r) : IFlowSink
    {
        public readonly List<FlowRecord> Records = [];
        public readonly List<int> SeenPackets = [];
        public int Batches;

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            Batches++;
            for (int i = 0; i < records.Length; i++)
            {
                Records.Add(records[i]);
                SeenPackets.Add(r.EmittedPackets[i]);
            }
        }

        public void Flush()
        {
        }

        public void Complete()
        {
        }
    }

    private sealed class EventLog : IFlowEventHandler
    {
        public readonly List<FlowEvent> Events = [];
        public Func<FlowEvent, uint>? MarkFor;

        public void OnFlowEvent(in FlowEvent flowEvent)
        {
            Events.Add(flowEvent);
            uint mark = MarkFor?.Invoke(flowEvent) ?? 0;
            if (mark != 0)
            {
                Assert.True(flowEvent.Marks.TrySetMark(flowEvent.Handle, mark));
            }
        }
    }

    private static PacketBatch Batch(params (byte[] Frame, long Ts)[] frames)
    {
        var batch = new PacketBatch(64, 64 * 2048);
        foreach ((byte[] frame, long ts) in frames)
        {
            Assert.True(batch.TryAppendCopy(frame, frame.Length, ts, LinkType.Ethernet));
        }

        return batch;
    }

    private static byte[] Syn(string src, string dst, ushort sp, ushort dp, byte flags = 0x02, int payload = 0) =>
        Frames.VxlanTcp(5, src, dst, sp, dp, flags, payload);

    [Fact]
    public void Hooks_PipelineWithFrames_StartOncePacketsUntilBudgetEmitAtRecordIndex()
    {
        var recorder = new Recorder(budget: 3);
        var sink = new CheckingSink(recorder);
        var options = new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = 64, RecordBatchSize = 2 } };
        using var pipeline = new FlowPipeline<RecordingExtension>(sink, options, new RecordingExtension(recorder));

        // Flow A: 5 packets; flow B: 2 packets; flow C: a SYN-ACK seen first (its first packet is the responder's).
        byte[] a = Syn("10.0.0.1", "10.0.0.2", 1000, 80, 0x10, 10);
        byte[] b = Syn("10.0.0.3", "10.0.0.2", 1001, 80, 0x10, 20);
        byte[] c = Syn("10.0.0.2", "10.0.0.4", 80, 1002, 0x12);
        pipeline.ProcessBatch(Batch((a, s_t0), (b, s_t0 + 1), (a, s_t0 + 2), (c, s_t0 + 3), (a, s_t0 + 4), (b, s_t0 + 5), (a, s_t0 + 6), (a, s_t0 + 7)));
        pipeline.Flush();

        Assert.Equal(3, sink.Records.Count);
        Assert.Equal(3, recorder.Delivered);
        Assert.True(sink.Batches >= 2, $"{sink.Batches} batches of at most 2");
        for (int i = 0; i < sink.Records.Count; i++)
        {
            FlowRecord r = sink.Records[i];
            uint total = r.ForwardPackets + r.ReversePackets;

            // The hook saw the flow's packets until its budget of 3 was spent.
            Assert.Equal((int)Math.Min(total, 3), sink.SeenPackets[i]);
        }

        Assert.Equal(3, recorder.Starts.Sum());
        // The packet hook saw each flow's first frame, whole.
        Assert.Equal(new[] { a.Length, b.Length, c.Length }.Order(), recorder.FirstFrameLength.Where(n => n > 0).Order());
        Assert.Equal(1, Enumerable.Range(0, recorder.Starts.Length).Count(i => recorder.Starts[i] > 0 && !recorder.FirstFromOriginator[i]));
    }

    [Fact]
    public void Hooks_TableWithoutFrames_PacketHookSeesEmptyFrame()
    {
        var recorder = new Recorder(budget: 10);
        var sink = new CheckingSink(recorder);
        using var table = new FlowTable<RecordingExtension>(new FlowTableOptions { MaxFlows = 64 }, sink, new RecordingExtension(recorder));
        var decoder = new PacketDecoder();
        DecodedPacket p = default;
        p.TimestampNs = s_t0;
        Assert.True(decoder.Decode(Syn("10.0.0.1", "10.0.0.2", 1000, 80), LinkType.Ethernet, ref p));
        table.Update(in p);
        Assert.Equal(0, recorder.FirstFrameLength.Max());
        Assert.Equal(1, recorder.Packets.Sum());
    }

    [Fact]
    public void Hooks_ActiveTimeoutContinuation_KeepsStateNoNewStart()
    {
        var recorder = new Recorder(budget: 100);
        var sink = new CheckingSink(recorder);
        var options = new FlowTableOptions { MaxFlows = 64, ActiveTimeout = TimeSpan.FromSeconds(10), TcpIdleTimeout = TimeSpan.FromMinutes(10) };
        using var table = new FlowTable<RecordingExtension>(options, sink, new RecordingExtension(recorder));
        var decoder = new PacketDecoder();
        for (int i = 0; i < 30; i++)
        {
            DecodedPacket p = default;
            p.TimestampNs = s_t0 + (i * Second);
            Assert.True(decoder.Decode(Syn("10.0.0.1", "10.0.0.2", 1000, 80, 0x10, 1), LinkType.Ethernet, ref p));
            table.Update(in p);
        }

        table.Flush();
        Assert.True(sink.Records.Count >= 3, $"{sink.Records.Count} records");
        Assert.Equal(FlowEndReason.ActiveTimeout, sink.Records[0].EndReason);
        Assert.Equal(1, recorder.Starts.Sum());
        Assert.Equal(30, sink.SeenPackets[^1]);
    }

    [Fact]
    public void Pair_MasksComposeAndEachStopsOnItsOwn()
    {
        var first = new Recorder(budget: 1);
        var second = new Recorder(budget: 4);
        var records = new List<FlowRecord>();
        var events = new EventLog();
        var pair = new FlowExtensions<RecordingExtension, RecordingExtension>(new RecordingExtension(first), new RecordingExtension(second));
        Assert.Equal(2, pair.MaskBits);
        using var table = new FlowTable<FlowExtensions<RecordingExtension, RecordingExtension>>(
            new FlowTableOptions { MaxFlows = 64 }, FlowSink.ToList(records), pair, events);
        var decoder = new PacketDecoder();
        for (int i = 0; i < 6; i++)
        {
            DecodedPacket p = default;
            p.TimestampNs = s_t0 + i;
            Assert.True(decoder.Decode(Syn("10.0.0.1", "10.0.0.2", 1000, 80, 0x10, 1), LinkType.Ethernet, ref p));
            table.Update(in p);
        }

        Assert.Equal(1, first.Packets.Sum());
        Assert.Equal(4, second.Packets.Sum());

        // Started, then the first extension done at packet 1 (bit 0), the second at packet 4 (bit 1).
        Assert.Equal([FlowEventKind.Started, FlowEventKind.ExtensionDone, FlowEventKind.ExtensionDone], events.Events.Select(e => e.Kind));
        Assert.Equal(1u, events.Events[1].DoneMask);
        Assert.Equal(2u, events.Events[2].DoneMask);
        Assert.Equal(s_t0 + 3, events.Events[2].TimestampNs);
    }

    [Fact]
    public void Events_Started_CarryOriginatorOrientedKeyAndLiveHandle()
    {
        var events = new EventLog();
        var records = new List<FlowRecord>();
        using var table = new FlowTable(new FlowTableOptions { MaxFlows = 64 }, FlowSink.ToList(records), events);
        var decoder = new PacketDecoder();
        DecodedPacket synAck = default;
        synAck.TimestampNs = s_t0;

        // A SYN-ACK first: the originator is its destination.
        Assert.True(decoder.Decode(Syn("10.0.0.2", "10.0.0.7", 443, 5555, 0x12), LinkType.Ethernet, ref synAck));
        table.Update(in synAck);
        FlowEvent e = Assert.Single(events.Events);
        Assert.Equal(FlowEventKind.Started, e.Kind);
        Assert.Equal("10.0.0.7", e.Flow.Source.ToString(4));
        Assert.Equal(5555, e.Flow.SourcePort);
        Assert.Equal(443, e.Flow.DestinationPort);
        Assert.Equal(new VirtualNetworkId(VirtualNetworkKind.Vxlan, 5), e.Flow.VirtualNetwork);
        Assert.Equal(6, e.Flow.Protocol);
        Assert.True(table.TryGetHandle(e.Handle.Slot, out FlowHandle now));
        Assert.Equal(e.Handle, now);
        Assert.True(table.TrySetMark(e.Handle, 0x1234));
        Assert.True(table.TryGetMark(e.Handle, out uint mark));
        Assert.Equal(0x1234u, mark);

        // Once the flow has left, the handle is stale, even when a new flow takes the same slot.
        table.Flush();
        Assert.False(table.TrySetMark(e.Handle, 1));
        table.Update(in synAck);
        Assert.Equal(2, events.Events.Count);
        Assert.Equal(e.Handle.Slot, events.Events[1].Handle.Slot);
        Assert.NotEqual(e.Handle.Generation, events.Events[1].Handle.Generation);
        Assert.False(table.TryGetMark(e.Handle, out _));
        Assert.True(table.TryGetMark(events.Events[1].Handle, out uint fresh));
        Assert.Equal(0u, fresh);
    }

    private sealed class CountingVerdict : IPacketVerdict
    {
        public int Asked;

        public PacketVerdict Decide(in DecodedPacket packet)
        {
            Asked++;
            return PacketVerdict.Forward;
        }
    }

    [Fact]
    public void Marks_DropAtFlowStart_InlinePathDropsEveryPacketOfThatFlowOnly()
    {
        var events = new EventLog { MarkFor = e => e.Kind == FlowEventKind.Started && e.Flow.DestinationPort == 23 ? (uint)FlowAction.Drop : 0 };
        var records = new List<FlowRecord>();
        var verdict = new CountingVerdict();
        using var pipeline = new FlowPipeline(FlowSink.ToList(records), new FlowPipelineOptions { Flows = new FlowTableOptions { MaxFlows = 64 } }, events);
        byte[] telnet = Syn("10.0.0.1", "10.0.0.2", 4000, 23);
        byte[] telnetBack = Syn("10.0.0.2", "10.0.0.1", 23, 4000, 0x12);
        byte[] web = Syn("10.0.0.1", "10.0.0.2", 4001, 80);
        byte[] arp = [.. new byte[12], 0x08, 0x06, .. new byte[28]];
        PacketBatch batch = Batch((telnet, s_t0), (web, s_t0 + 1), (telnetBack, s_t0 + 2), (arp, s_t0 + 3), (telnet, s_t0 + 4));
        var verdicts = new PacketVerdict[batch.Count];
        pipeline.ProcessInlineBatch(batch, verdict, verdicts);
        Assert.Equal([PacketVerdict.Drop, PacketVerdict.Forward, PacketVerdict.Drop, PacketVerdict.Forward, PacketVerdict.Drop], verdicts);

        // Only the web packet went to the packet verdict (the ARP frame does not decode).
        Assert.Equal(1, verdict.Asked);
    }
}
