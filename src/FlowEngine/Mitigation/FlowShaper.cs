// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;

namespace FlowEngine.Mitigation;

/// <summary>
/// Token buckets for flows marked <see cref="FlowAction.Shape"/>: each bucket is named by a mark that carries its
/// index and a generation, so the data plane finds it from the flow's slot with one array access and a mark whose
/// bucket was removed (or reused) is recognised as stale. Buckets are added and removed from any thread;
/// <see cref="Admit"/> runs on one data-plane thread. Buckets run on packet time.
/// </summary>
/// <remarks>
/// Mark layout: bits 0-7 <see cref="FlowAction.Shape"/>, bits 8-19 the bucket index, bits 20-31 its generation.
/// A bucket is published (its state written last, volatile) before any flow can carry its mark, and a removed one is
/// only reused with the next generation.
/// </remarks>
public sealed class FlowShaper
{
    /// <summary>Most buckets a shaper can hold (the index has 12 bits).</summary>
    public const int MaxCapacity = 1 << 12;

    /// <summary>What <see cref="Admit"/> returns for a mark whose bucket is gone: clear the mark and decide afresh.</summary>
    public const int Stale = -1;

    private readonly Bucket[] _buckets;
    private readonly Stack<int> _free;
    private readonly Lock _gate = new();

    /// <summary>Creates a shaper.</summary>
    /// <param name="capacity">Buckets at once, 1 to <see cref="MaxCapacity"/>.</param>
    public FlowShaper(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        _buckets = new Bucket[capacity];
        _free = new Stack<int>(Enumerable.Range(0, capacity).Reverse());
    }

    /// <summary>Buckets in use.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _buckets.Length - _free.Count;
            }
        }
    }

    /// <summary>Adds a bucket: shaped to <paramref name="rate"/>, or, without one, dropping everything.</summary>
    /// <param name="rate">The rate; null for a bucket that admits nothing.</param>
    /// <returns>The mark that names it (low byte <see cref="FlowAction.Shape"/>).</returns>
    /// <exception cref="InvalidOperationException">Every bucket is in use.</exception>
    public uint Add(ShapeRate? rate)
    {
        lock (_gate)
        {
            if (!_free.TryPop(out int index))
            {
                throw new InvalidOperationException($"all {_buckets.Length} shaper buckets are in use");
            }

            ref Bucket b = ref _buckets[index];
            uint generation = (b.Generation + 1) & 0xFFF;
            b.Generation = generation;
            b.Packets = rate is { Unit: RateUnit.PacketsPerSecond };
            b.PerNs = rate is ShapeRate r ? r.PerSecond / 1e9 : 0;
            b.Burst = rate is ShapeRate r2 ? r2.Burst : 0;
            b.Tokens = b.Burst;
            b.LastNs = long.MinValue;
            b.Passed = 0;
            b.Dropped = 0;
            Volatile.Write(ref b.State, 1);
            return (uint)FlowAction.Shape | ((uint)index << 8) | (generation << 20);
        }
    }

    /// <summary>Removes a bucket; flows that carry its mark are decided afresh at their next packet.</summary>
    /// <param name="mark">The mark <see cref="Add"/> returned.</param>
    /// <returns>False when the mark names no bucket in use.</returns>
    public bool Remove(uint mark)
    {
        lock (_gate)
        {
            int index = (int)((mark >> 8) & 0xFFF);
            if ((FlowAction)(byte)mark != FlowAction.Shape || index >= _buckets.Length)
            {
                return false;
            }

            ref Bucket b = ref _buckets[index];
            if (b.State == 0 || b.Generation != mark >> 20)
            {
                return false;
            }

            Volatile.Write(ref b.State, 0);
            _free.Push(index);
            return true;
        }
    }

    /// <summary>Packets a bucket admitted and dropped since it was added (read on any thread; approximate while traffic runs).</summary>
    /// <param name="mark">The bucket's mark.</param>
    /// <param name="passed">Packets admitted.</param>
    /// <param name="dropped">Packets dropped.</param>
    /// <returns>False when the mark names no bucket in use.</returns>
    public bool TryGetCounts(uint mark, out long passed, out long dropped)
    {
        int index = (int)((mark >> 8) & 0xFFF);
        passed = dropped = 0;
        if (index >= _buckets.Length)
        {
            return false;
        }

        ref Bucket b = ref _buckets[index];
        if (Volatile.Read(ref b.State) == 0 || b.Generation != mark >> 20)
        {
            return false;
        }

        passed = Volatile.Read(ref b.Passed);
        dropped = Volatile.Read(ref b.Dropped);
        return true;
    }

    /// <summary>Admits one packet of a flow marked <see cref="FlowAction.Shape"/> from its bucket.</summary>
    /// <param name="mark">The flow's mark.</param>
    /// <param name="wireLength">The packet's length on the wire (bytes buckets).</param>
    /// <param name="nowNs">Packet time.</param>
    /// <returns>0 forward, 1 drop (as <see cref="PacketVerdict"/>), or <see cref="Stale"/> when the bucket is gone.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Admit(uint mark, int wireLength, long nowNs)
    {
        uint index = (mark >> 8) & 0xFFF;
        Bucket[] buckets = _buckets;
        if (index >= (uint)buckets.Length)
        {
            return Stale;
        }

        ref Bucket b = ref buckets[index];
        if (Volatile.Read(ref b.State) == 0 || b.Generation != mark >> 20)
        {
            return Stale;
        }

        if (nowNs > b.LastNs)
        {
            if (b.LastNs != long.MinValue)
            {
                b.Tokens = Math.Min(b.Burst, b.Tokens + ((nowNs - b.LastNs) * b.PerNs));
            }

            b.LastNs = nowNs;
        }

        double cost = b.Packets ? 1 : wireLength;
        if (b.Tokens >= cost)
        {
            b.Tokens -= cost;
            b.Passed++;
            return (int)PacketVerdict.Forward;
        }

        b.Dropped++;
        return (int)PacketVerdict.Drop;
    }

    private struct Bucket
    {
        public double Tokens;
        public double PerNs;
        public double Burst;
        public long LastNs;
        public long Passed;
        public long Dropped;
        public uint Generation;
        public int State;
        public bool Packets;
    }
}
