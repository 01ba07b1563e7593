// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Context;

/// <summary>
/// The latest two resource samples of each VM, written by a <see cref="VmStateSampler"/> (or pushed by a platform's
/// own telemetry through <see cref="Push(string, in VmResourceSample)"/>) and read by any number of flow-table
/// workers without locks.
/// </summary>
/// <remarks>
/// <para>Each VM has a fixed slot guarded by a sequence number (a seqlock): a writer makes the number odd, writes both
/// samples and makes it even again; a reader copies the samples between two reads of the number and retries when they
/// differ or are odd, so it never returns a torn sample and never blocks the writer. Writers take a lock among
/// themselves (one write per VM per interval); readers never lock, never allocate and never write shared memory.</para>
/// <para>VM names map to slots through a dictionary that is replaced, never changed, when a VM is added, so a reader
/// looks names up without a lock. Slots are never reused; at most <see cref="Capacity"/> VMs are kept and samples of
/// more are counted in <see cref="RejectedSamples"/>.</para>
/// </remarks>
public sealed class VmStateStore : IVmStateSource
{
    private readonly Slot[] _slots;
    private readonly Lock _writers = new();
    private Dictionary<string, int> _indexes = new(StringComparer.Ordinal);
    private string[] _names = [];
    private long _accepted;
    private long _rejected;

    /// <summary>A store for at most <paramref name="capacity"/> VMs.</summary>
    /// <param name="capacity">The most VMs kept.</param>
    public VmStateStore(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new Slot[capacity];
    }

    /// <summary>The most VMs kept.</summary>
    public int Capacity => _slots.Length;

    /// <summary>The VMs that have a slot, in the order they got it (their index).</summary>
    public IReadOnlyList<string> VmNames => Volatile.Read(ref _names);

    /// <summary>Samples stored.</summary>
    public long AcceptedSamples => Interlocked.Read(ref _accepted);

    /// <summary>Samples refused: not newer than the VM's latest, or beyond <see cref="Capacity"/> VMs.</summary>
    public long RejectedSamples => Interlocked.Read(ref _rejected);

    /// <summary>The slot of <paramref name="vmName"/>, creating it when there is none yet.</summary>
    /// <param name="vmName">The VM's name.</param>
    /// <returns>The index, or -1 when the store is full.</returns>
    public int Register(string vmName)
    {
        ArgumentException.ThrowIfNullOrEmpty(vmName);
        if (Volatile.Read(ref _indexes).TryGetValue(vmName, out int index))
        {
            return index;
        }

        lock (_writers)
        {
            return RegisterLocked(vmName);
        }
    }

    /// <summary>The slot of <paramref name="vmName"/>, without creating one. Lock-free.</summary>
    /// <param name="vmName">The VM's name.</param>
    /// <returns>The index, or -1 when the VM has none.</returns>
    public int IndexOf(string vmName)
        => vmName is not null && Volatile.Read(ref _indexes).TryGetValue(vmName, out int index) ? index : -1;

    /// <summary>Stores a sample of <paramref name="vmName"/> (the push API for platforms with their own telemetry).</summary>
    /// <param name="vmName">The VM's name.</param>
    /// <param name="sample">The sample; must be newer than the VM's latest.</param>
    /// <returns>False, counted in <see cref="RejectedSamples"/>, when the sample is not newer or the store is full.</returns>
    public bool Push(string vmName, in VmResourceSample sample)
    {
        ArgumentException.ThrowIfNullOrEmpty(vmName);
        lock (_writers)
        {
            int index = RegisterLocked(vmName);
            if (index < 0)
            {
                Interlocked.Increment(ref _rejected);
                return false;
            }

            return PushLocked(index, in sample);
        }
    }

    /// <summary>Stores a sample of the VM at <paramref name="index"/> (from <see cref="Register"/>).</summary>
    /// <param name="index">The VM's index.</param>
    /// <param name="sample">The sample; must be newer than the VM's latest.</param>
    /// <returns>False, counted in <see cref="RejectedSamples"/>, when the sample is not newer.</returns>
    public bool Push(int index, in VmResourceSample sample)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, VmNames.Count);
        lock (_writers)
        {
            return PushLocked(index, in sample);
        }
    }

    /// <summary>The latest two samples of the VM at <paramref name="index"/>, copied consistently. Lock-free.</summary>
    /// <param name="index">The VM's index.</param>
    /// <param name="previous">The sample before the latest; default when <paramref name="hasPrevious"/> is false.</param>
    /// <param name="hasPrevious">Whether there are two samples.</param>
    /// <param name="latest">The latest sample.</param>
    /// <returns>False when the index has no sample yet.</returns>
    public bool TryGetSamples(int index, out VmResourceSample previous, out bool hasPrevious, out VmResourceSample latest)
    {
        if ((uint)index >= (uint)_slots.Length)
        {
            previous = latest = default;
            hasPrevious = false;
            return false;
        }

        ref Slot slot = ref _slots[index];
        var spinner = default(SpinWait);
        while (true)
        {
            int before = Volatile.Read(ref slot.Sequence);
            if ((before & 1) == 0)
            {
                previous = slot.Previous;
                latest = slot.Latest;
                int count = slot.Count;

                // Invariant: the copies above complete before the sequence is read again (no load moves past a fence).
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref slot.Sequence) == before)
                {
                    hasPrevious = count > 1;
                    if (count == 0)
                    {
                        previous = default;
                        return false;
                    }

                    if (!hasPrevious)
                    {
                        previous = default;
                    }

                    return true;
                }
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>The state of the VM at <paramref name="index"/> from its latest two samples. Lock-free, no allocation.</summary>
    /// <param name="index">The VM's index (from <see cref="IndexOf"/>).</param>
    /// <param name="timeNs">The time asked about: only <see cref="VmResourceState.SampleAgeNs"/> depends on it.</param>
    /// <param name="state">The state.</param>
    /// <returns>False when the VM has no sample.</returns>
    public bool TryGetState(int index, long timeNs, out VmResourceState state)
    {
        if (!TryGetSamples(index, out VmResourceSample previous, out bool hasPrevious, out VmResourceSample latest))
        {
            state = default;
            return false;
        }

        state = VmResourceState.FromSamples(in previous, hasPrevious, in latest, timeNs);
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>The live store answers from the latest samples whatever the time; the time sets only the sample's age.</remarks>
    public bool TryGetState(string vmName, long timeNs, out VmResourceState state)
        => TryGetState(IndexOf(vmName), timeNs, out state);

    private int RegisterLocked(string vmName)
    {
        Dictionary<string, int> current = _indexes;
        if (current.TryGetValue(vmName, out int index))
        {
            return index;
        }

        if (current.Count >= _slots.Length)
        {
            return -1;
        }

        index = current.Count;
        var next = new Dictionary<string, int>(current, StringComparer.Ordinal) { [vmName] = index };
        string[] names = [.. _names, vmName];
        Volatile.Write(ref _names, names);
        Volatile.Write(ref _indexes, next);
        return index;
    }

    private bool PushLocked(int index, in VmResourceSample sample)
    {
        ref Slot slot = ref _slots[index];
        if (slot.Count > 0 && sample.TimeNs <= slot.Latest.TimeNs)
        {
            Interlocked.Increment(ref _rejected);
            return false;
        }

        int sequence = slot.Sequence;
        Volatile.Write(ref slot.Sequence, sequence + 1);

        // Invariant: the odd sequence is visible before any sample byte changes (a store may not move before a fence).
        Interlocked.MemoryBarrier();
        slot.Previous = slot.Latest;
        slot.Latest = sample;
        if (slot.Count < 2)
        {
            slot.Count++;
        }

        // Release: every sample byte is written before the sequence is even again.
        Volatile.Write(ref slot.Sequence, sequence + 2);
        Interlocked.Increment(ref _accepted);
        return true;
    }

    /// <summary>One VM's samples and their sequence number, padded to two cache lines so that slots share none.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    private struct Slot
    {
        public int Sequence;
        public int Count;
        public VmResourceSample Latest;
        public VmResourceSample Previous;
    }
}
