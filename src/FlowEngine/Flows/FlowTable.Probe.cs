// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using FlowEngine.Flows.Internal;

namespace FlowEngine.Flows;

/// <summary>The table's hashing layout: finding, inserting, evicting and removing keys.</summary>
public partial class FlowTable<TExtension>
{
    // A key's home bucket: the low 32 bits of its hash scaled to the bucket count (a multiply and a shift, so the
    // count need not be a power of two and the table's memory follows MaxFlows instead of the next power of two).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int HomeOf(ulong hash) => (int)(((ulong)(uint)hash * (uint)_buckets) >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int NextBucket(int bucket) => ++bucket == _buckets ? 0 : bucket;

    // A slot's tag: 32 bits of its key's hash, never 0 (0 marks a free slot).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint TagOf(ulong hash) => (uint)(hash >> 32) | 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(ref FlowKey key, int home, uint tag, out int freeSlot)
    {
        freeSlot = -1;
        ref uint tags = ref _tags[0];
        ref FlowEntry entries = ref _entries[0];
        ref byte overflow = ref _overflow[0];
        Vector256<uint> wanted = Vector256.Create(tag);
        int bucket = home;
        for (int probe = 0; probe < _buckets; probe++)
        {
            int first = bucket * BucketSlots;
            Vector256<uint> column = Vector256.LoadUnsafe(ref tags, (nuint)first);
            uint matches = Vector256.Equals(column, wanted).ExtractMostSignificantBits();
            while (matches != 0)
            {
                int slot = first + BitOperations.TrailingZeroCount(matches);
                if (FlowKey.Equal(ref Unsafe.Add(ref entries, slot).Key, ref key))
                {
                    return slot;
                }

                matches &= matches - 1;
            }

            if (freeSlot < 0)
            {
                uint empty = Vector256.Equals(column, Vector256<uint>.Zero).ExtractMostSignificantBits();
                if (empty != 0)
                {
                    freeSlot = first + BitOperations.TrailingZeroCount(empty);
                }
            }

            if (Unsafe.Add(ref overflow, bucket) == 0)
            {
                break;
            }

            bucket = NextBucket(bucket);
        }

        return -1;
    }

    private int Insert(ref FlowKey key, int home, uint tag, int freeSlot)
    {
        if (_count >= _maxFlows)
        {
            EvictOldest();
            freeSlot = -1;
        }

        if (freeSlot < 0)
        {
            freeSlot = FindFreeSlot(home);
        }

        // Every bucket between home and the chosen one now has an entry that probed past it.
        int bucket = home;
        int target = freeSlot / BucketSlots;
        while (bucket != target)
        {
            if (_overflow[bucket] != byte.MaxValue)
            {
                _overflow[bucket]++;
            }

            bucket = NextBucket(bucket);
        }

        _tags[freeSlot] = tag;
        _entries[freeSlot].Key = key;
        _count++;
        _statistics.FlowsCreated++;
        return freeSlot;
    }

    // The first free slot from the home bucket on. One always exists (at most 15 slots in 16 are in use), so the walk
    // ends; at that load a bucketised linear probe ends within a few buckets on average.
    private int FindFreeSlot(int home)
    {
        int bucket = home;
        for (int probe = 0; probe < _buckets; probe++)
        {
            int first = bucket * BucketSlots;
            uint empty = Vector256.Equals(Vector256.LoadUnsafe(ref _tags[0], (nuint)first), Vector256<uint>.Zero).ExtractMostSignificantBits();
            if (empty != 0)
            {
                return first + BitOperations.TrailingZeroCount(empty);
            }

            bucket = NextBucket(bucket);
        }

        throw new InvalidOperationException("flow table has no free slot (its load bound was broken)");
    }

    // The table is full: the flow scheduled earliest on the wheel (the longest idle, up to rescheduling) leaves.
    // Chosen from the wheel, not from the hash layout, so the choice is the same whatever the seed.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EvictOldest()
    {
        for (int i = 0; i < WheelBuckets; i++)
        {
            int sentinel = SentinelFromNow(i);
            int slot = _next[sentinel];
            if (slot != sentinel)
            {
                _statistics.Evictions++;
                Emit(slot, FlowEndReason.Evicted);
                Unschedule(slot);
                Remove(slot);
                return;
            }
        }
    }

    private void Remove(int slot)
    {
        ulong hash = FlowKey.Hash(ref _entries[slot].Key, _seed);
        int bucket = HomeOf(hash);
        int target = slot / BucketSlots;
        while (bucket != target)
        {
            byte o = _overflow[bucket];
            if (o != byte.MaxValue && o != 0)
            {
                _overflow[bucket] = (byte)(o - 1);
            }

            bucket = NextBucket(bucket);
        }

        _tags[slot] = 0;
        _count--;
    }
}
