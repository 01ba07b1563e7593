// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Flows;

public class FlowSinkTests
{
    private const long Second = 1_000_000_000;
    private static readonly long s_t0 = 1_700_000_000 * Second;

    private sealed class BatchLog : IFlowSink
    {
        public readonly List<int> BatchSizes = [];
        public readonly List<FlowRecord> Records = [];
        public readonly List<string> Calls = [];
        public int Flushes;
        public int Completions;
        public int DelayMs;
        public int ThreadId;
        public bool Throw;

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            ThreadId = Environment.CurrentManagedThreadId;
            if (Throw)
            {
                throw new InvalidDataException("consumer failed");
            }

            if (DelayMs > 0)
            {
                Thread.Sleep(DelayMs);
            }

            BatchSizes.Add(records.Length);
            Calls.Add("flows");
            foreach (ref readonly FlowRecord r in records)
            {
                Records.Add(r);
            }
        }

        public void Flush()
        {
            Flushes++;
            Calls.Add("flush");
        }

        public void Complete()
        {
            Completions++;
            Calls.Add("complete");
        }
    }

    // n one-packet UDP flows, one per port, a second apart (each idles out while the next arrives).
    private static void Feed(FlowTable table, int n)
    {
        var decoder = new PacketDecoder();
        for (int i = 0; i < n; i++)
        {
            DecodedPacket p = default;
            p.TimestampNs = s_t0 + (i * Second);
            Assert.True(decoder.Decode(Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp((ushort)(1000 + i), 53, new byte[8]))), LinkType.Ethernet, ref p));
            table.Update(in p);
        }
    }

    private static FlowRecord Record(int i) => new() { SourcePort = (ushort)i, ForwardPackets = 1, IpVersion = 4 };

    [Fact]
    public void Table_RecordBatchSize_BatchesAtMostThatLargeInEmissionOrderThenFlush()
    {
        var log = new BatchLog();
        using var table = new FlowTable(new FlowTableOptions { MaxFlows = 16, RecordBatchSize = 3 }, log);
        Feed(table, 40);
        table.Flush();
        Assert.Equal(40, log.Records.Count);
        Assert.All(log.BatchSizes, n => Assert.InRange(n, 1, 3));

        // The table is full at 16 flows: the oldest leaves first, so records come in port order.
        Assert.Equal(Enumerable.Range(1000, 40).Select(p => (ushort)p), log.Records.Select(r => r.SourcePort));
        Assert.Equal("flush", log.Calls[^1]);
        Assert.Equal(1, log.Flushes);
        Assert.Equal(0, log.Completions);
    }

    [Fact]
    public void Composite_EverySinkSeesEveryBatchFlushAndComplete()
    {
        var a = new BatchLog();
        var b = new BatchLog();
        IFlowSink both = FlowSink.Composite(a, b);
        using var table = new FlowTable(new FlowTableOptions { MaxFlows = 16, RecordBatchSize = 4 }, both);
        Feed(table, 10);
        table.Flush();
        both.Complete();
        Assert.Equal(a.BatchSizes, b.BatchSizes);
        Assert.Equal(10, b.Records.Count);
        Assert.Equal(["flush", "complete"], a.Calls[^2..]);
        Assert.Equal(a.Calls, b.Calls);
        Assert.Throws<ArgumentNullException>(() => FlowSink.Composite(a, null!));
    }

    [Fact]
    public void HandOff_Block_EveryRecordInOrderOnAnotherThreadWithWaitsCounted()
    {
        var consumer = new BatchLog { DelayMs = 1 };
        using var handOff = new FlowHandOffSink(consumer, capacity: 8, HandOffPolicy.Block);
        var batch = new FlowRecord[5];
        for (int i = 0; i < 200; i += batch.Length)
        {
            for (int j = 0; j < batch.Length; j++)
            {
                batch[j] = Record(i + j);
            }

            handOff.OnFlows(batch);
        }

        handOff.Flush();
        Assert.Equal(200, handOff.Accepted);
        Assert.Equal(200, handOff.Delivered);
        Assert.Equal(0, handOff.Depth);
        Assert.Equal(1, consumer.Flushes);
        Assert.True(handOff.ProducerWaits > 0, "a ring of 8 behind a slow consumer never made the producer wait");
        Assert.InRange(handOff.MaxDepth, 1, 8);
        Assert.NotEqual(Environment.CurrentManagedThreadId, consumer.ThreadId);
        Assert.Equal(Enumerable.Range(0, 200).Select(p => (ushort)p), consumer.Records.Select(r => r.SourcePort));
        handOff.Complete();
        Assert.Equal(1, consumer.Completions);
        Assert.Throws<ObjectDisposedException>(() => handOff.OnFlows(batch));
    }

    [Fact]
    public void HandOff_DropNewest_ProducerNeverWaitsAndEveryRecordIsDeliveredOrCounted()
    {
        var consumer = new BatchLog { DelayMs = 20 };
        using var handOff = new FlowHandOffSink(consumer, capacity: 4, HandOffPolicy.DropNewest);
        var batch = new FlowRecord[3];
        for (int i = 0; i < 30; i++)
        {
            handOff.OnFlows(batch);
        }

        handOff.Complete();
        Assert.Equal(0, handOff.ProducerWaits);
        Assert.True(handOff.Dropped > 0, "nothing dropped behind a consumer that sleeps 20 ms per batch");
        Assert.Equal(90, handOff.Accepted + handOff.Dropped);
        Assert.Equal(handOff.Accepted, handOff.Delivered);
        Assert.Equal(handOff.Delivered, consumer.Records.Count);
        Assert.Equal(1, consumer.Completions);
    }

    [Fact]
    public void HandOff_ConsumerThrows_ProducerSeesTheFailureInsteadOfWaitingForever()
    {
        var consumer = new BatchLog { Throw = true };
        var handOff = new FlowHandOffSink(consumer, capacity: 4, HandOffPolicy.Block);
        handOff.OnFlows(new FlowRecord[2]);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() =>
        {
            // Fills the ring and waits for space that never comes, or meets the fault at Flush.
            handOff.OnFlows(new FlowRecord[4]);
            handOff.OnFlows(new FlowRecord[4]);
            handOff.Flush();
        });
        Assert.IsType<InvalidDataException>(e.InnerException);
        Assert.Throws<InvalidOperationException>(handOff.Complete);
    }
}
