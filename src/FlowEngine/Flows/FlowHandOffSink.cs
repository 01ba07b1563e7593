// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Flows;

/// <summary>
/// Hands flow records from a worker (the single producer) to a thread of its own (the single consumer), which passes
/// them to another sink in batches, through a bounded ring of records: the worker copies, never locks, and never
/// allocates. When the ring is full, <see cref="HandOffPolicy"/> decides: wait (backpressure) or drop; both are
/// counted, so nothing is lost silently. Extensions' per-record data does not cross: the consumer sees the records only.
/// </summary>
/// <remarks>
/// Head and tail are monotonically increasing counters, each written by one side only (published with a release
/// write, read with an acquire read), on cache lines of their own. A side with nothing to do waits on an event with a
/// short timeout, so a missed wake-up costs at most that timeout, never a hang.
/// </remarks>
public sealed class FlowHandOffSink : IFlowSink, IDisposable
{
    private const int WaitMs = 5;

    private readonly FlowRecord[] _ring;
    private readonly int _mask;
    private readonly IFlowSink _consumer;
    private readonly HandOffPolicy _policy;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _dataReady = new(false);
    private readonly ManualResetEventSlim _spaceReady = new(false);
    private readonly ManualResetEventSlim _flushed = new(false);
    private Counters _counters;
    private volatile bool _completing;
    private volatile bool _completed;
    private Exception? _fault;

    /// <summary>Starts the consumer thread.</summary>
    /// <param name="consumer">The sink that runs on the consumer thread.</param>
    /// <param name="capacity">Records the ring holds (rounded up to a power of two; at least 2).</param>
    /// <param name="policy">What to do when the ring is full.</param>
    /// <param name="threadName">The consumer thread's name.</param>
    public FlowHandOffSink(IFlowSink consumer, int capacity = 16384, HandOffPolicy policy = HandOffPolicy.Block, string threadName = "flow-handoff")
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 24);
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _ring = new FlowRecord[size];
        _mask = size - 1;
        _consumer = consumer;
        _policy = policy;
        _thread = new Thread(ConsumeLoop) { IsBackground = true, Name = threadName };
        _thread.Start();
    }

    /// <summary>Records the ring holds.</summary>
    public int Capacity => _ring.Length;

    /// <summary>Records accepted by the producer into the ring.</summary>
    public long Accepted => Volatile.Read(ref _counters.Head);

    /// <summary>Records passed to the consumer sink.</summary>
    public long Delivered => Volatile.Read(ref _counters.Tail);

    /// <summary>Records dropped because the ring was full (<see cref="HandOffPolicy.DropNewest"/>).</summary>
    public long Dropped => Volatile.Read(ref _counters.Dropped);

    /// <summary>Times the producer waited for space (<see cref="HandOffPolicy.Block"/>).</summary>
    public long ProducerWaits => Volatile.Read(ref _counters.Waits);

    /// <summary>Records in the ring now.</summary>
    public int Depth => (int)(Volatile.Read(ref _counters.Head) - Volatile.Read(ref _counters.Tail));

    /// <summary>Most records the ring held at once.</summary>
    public int MaxDepth => (int)Volatile.Read(ref _counters.MaxDepth);

    /// <inheritdoc/>
    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        ThrowIfFaultedOrCompleted();
        long head = _counters.Head;
        while (!records.IsEmpty)
        {
            long free = _ring.Length - (head - Volatile.Read(ref _counters.Tail));
            if (free == 0)
            {
                if (_policy == HandOffPolicy.DropNewest)
                {
                    _counters.Dropped += records.Length;
                    break;
                }

                WaitForSpace(head);
                continue;
            }

            int n = (int)Math.Min(free, records.Length);
            int start = (int)(head & _mask);
            int first = Math.Min(n, _ring.Length - start);
            records[..first].CopyTo(_ring.AsSpan(start));
            records.Slice(first, n - first).CopyTo(_ring);
            records = records[n..];
            head += n;
            Volatile.Write(ref _counters.Head, head);
            long depth = head - Volatile.Read(ref _counters.Tail);
            if (depth > _counters.MaxDepth)
            {
                _counters.MaxDepth = depth;
            }

            _dataReady.Set();
        }
    }

    /// <summary>Waits until the consumer has passed every record accepted so far to its sink and flushed it.</summary>
    public void Flush()
    {
        ThrowIfFaultedOrCompleted();
        long head = _counters.Head;
        Volatile.Write(ref _counters.FlushRequest, head);
        _dataReady.Set();
        while (Volatile.Read(ref _counters.FlushedUpTo) < head)
        {
            ThrowIfFaulted();
            _flushed.Wait(WaitMs);
            _flushed.Reset();
        }
    }

    /// <summary>Passes every accepted record on, completes the consumer sink on its thread, and ends the thread.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }

        _completing = true;
        _dataReady.Set();
        _thread.Join();
        _completed = true;
        ThrowIfFaulted();
    }

    /// <summary>Completes (when not yet done) and releases the events.</summary>
    public void Dispose()
    {
        try
        {
            Complete();
        }
        finally
        {
            _dataReady.Dispose();
            _spaceReady.Dispose();
            _flushed.Dispose();
        }
    }

    private void WaitForSpace(long head)
    {
        _counters.Waits++;
        while (_ring.Length - (head - Volatile.Read(ref _counters.Tail)) == 0)
        {
            ThrowIfFaulted();
            _spaceReady.Wait(WaitMs);
            _spaceReady.Reset();
        }
    }

    private void ConsumeLoop()
    {
        try
        {
            while (true)
            {
                // Read the completion flag before the head: once it is seen, every record was published before it.
                bool completing = _completing;
                long head = Volatile.Read(ref _counters.Head);
                long tail = _counters.Tail;
                if (head != tail)
                {
                    int start = (int)(tail & _mask);
                    int n = (int)Math.Min(head - tail, _ring.Length - start);
                    _consumer.OnFlows(_ring.AsSpan(start, n));
                    Volatile.Write(ref _counters.Tail, tail + n);
                    _spaceReady.Set();
                    continue;
                }

                long flushRequest = Volatile.Read(ref _counters.FlushRequest);
                if (flushRequest > Volatile.Read(ref _counters.FlushedUpTo) && tail >= flushRequest)
                {
                    _consumer.Flush();
                    Volatile.Write(ref _counters.FlushedUpTo, flushRequest);
                    _flushed.Set();
                    continue;
                }

                if (completing)
                {
                    _consumer.Complete();
                    return;
                }

                _dataReady.Wait(WaitMs);
                _dataReady.Reset();
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref _fault, e);
            _spaceReady.Set();
            _flushed.Set();
        }
    }

    private void ThrowIfFaulted()
    {
        Exception? fault = Volatile.Read(ref _fault);
        if (fault is not null)
        {
            throw new InvalidOperationException("the hand-off sink's consumer failed", fault);
        }
    }

    private void ThrowIfFaultedOrCompleted()
    {
        ThrowIfFaulted();
        ObjectDisposedException.ThrowIf(_completing, this);
    }

    // Each side's counters on cache lines of their own: the producer writes Head, Dropped, Waits, MaxDepth and
    // FlushRequest; the consumer writes Tail and FlushedUpTo.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Counters
    {
        [FieldOffset(64)]
        public long Head;

        [FieldOffset(72)]
        public long Dropped;

        [FieldOffset(80)]
        public long Waits;

        [FieldOffset(88)]
        public long MaxDepth;

        [FieldOffset(96)]
        public long FlushRequest;

        [FieldOffset(128)]
        public long Tail;

        [FieldOffset(136)]
        public long FlushedUpTo;
    }
}
