// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context.Profiles;

/// <summary>
/// The most frequent keys of a stream in fixed memory: Space-Saving (Metwally, Agrawal, El Abbadi, "Efficient
/// computation of frequent and top-k elements in data streams", ICDT 2005). Each of the <see cref="Capacity"/> counters
/// holds a key, its count, the count's overestimate (the count of the key it replaced), bytes, first and last seen
/// time and a short label (the address or the name, for display). A key not tracked replaces the counter with the
/// least count. Any key with a true frequency above N / capacity is guaranteed to be tracked. Lookups scan the key
/// column with SIMD; nothing is allocated after construction.
/// </summary>
public sealed class HeavyHitters
{
    /// <summary>Bytes of label kept per counter (longer labels are cut).</summary>
    public const int LabelBytes = 63;

    private readonly ulong[] _keys;
    private readonly long[] _counts;
    private readonly long[] _errors;
    private readonly long[] _bytes;
    private readonly long[] _firstNs;
    private readonly long[] _lastNs;
    private readonly byte[] _labels;
    private int _used;
    private long _total;

    /// <summary>Counters for the <paramref name="capacity"/> most frequent keys.</summary>
    /// <param name="capacity">Counters, 1 to 4096.</param>
    public HeavyHitters(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 4096);
        _keys = new ulong[capacity];
        _counts = new long[capacity];
        _errors = new long[capacity];
        _bytes = new long[capacity];
        _firstNs = new long[capacity];
        _lastNs = new long[capacity];
        _labels = new byte[capacity * (LabelBytes + 1)];
    }

    /// <summary>Counters.</summary>
    public int Capacity => _keys.Length;

    /// <summary>Counters in use.</summary>
    public int Count => _used;

    /// <summary>Occurrences added in all (tracked or not).</summary>
    public long Total => _total;

    /// <summary>Adds one occurrence of <paramref name="key"/>.</summary>
    /// <param name="key">The key (a hash of what is counted).</param>
    /// <param name="bytes">Bytes to add to its volume.</param>
    /// <param name="timeNs">Packet time of the occurrence.</param>
    /// <param name="label">What the key stands for, kept when the key takes a counter.</param>
    /// <returns>True when the key was tracked already.</returns>
    public bool Add(ulong key, long bytes, long timeNs, ReadOnlySpan<byte> label)
    {
        _total++;
        int i = _keys.AsSpan(0, _used).IndexOf(key);
        if (i >= 0)
        {
            _counts[i]++;
            _bytes[i] += bytes;
            _lastNs[i] = Math.Max(_lastNs[i], timeNs);
            return true;
        }

        long error = 0;
        if (_used < _keys.Length)
        {
            i = _used++;
        }
        else
        {
            i = MinIndex();
            error = _counts[i];
        }

        _keys[i] = key;
        _counts[i] = error + 1;
        _errors[i] = error;
        _bytes[i] = bytes;
        _firstNs[i] = timeNs;
        _lastNs[i] = timeNs;
        SetLabel(i, label);
        return false;
    }

    /// <summary>True when <paramref name="key"/> holds a counter now.</summary>
    /// <param name="key">The key.</param>
    /// <returns>Whether it is tracked.</returns>
    public bool Contains(ulong key) => _keys.AsSpan(0, _used).IndexOf(key) >= 0;

    /// <summary>The counters, most frequent first (builds a list: for display and snapshots, not the flow path).</summary>
    /// <returns>The entries.</returns>
    public IReadOnlyList<HeavyHitter> Top()
    {
        var list = new List<HeavyHitter>(_used);
        for (int i = 0; i < _used; i++)
        {
            list.Add(new HeavyHitter(_keys[i], _counts[i], _errors[i], _bytes[i], _firstNs[i], _lastNs[i], Label(i).ToArray()));
        }

        list.Sort((a, b) => b.Count != a.Count ? b.Count.CompareTo(a.Count) : a.Key.CompareTo(b.Key));
        return list;
    }

    /// <summary>Puts back an entry read from a snapshot (replacing the least counter when full).</summary>
    /// <param name="entry">The entry.</param>
    internal void Restore(in HeavyHitter entry)
    {
        int i = _used < _keys.Length ? _used++ : MinIndex();
        _keys[i] = entry.Key;
        _counts[i] = entry.Count;
        _errors[i] = entry.Error;
        _bytes[i] = entry.Bytes;
        _firstNs[i] = entry.FirstNs;
        _lastNs[i] = entry.LastNs;
        SetLabel(i, entry.Label);
    }

    internal void RestoreTotal(long total) => _total = total;

    private int MinIndex()
    {
        int min = 0;
        for (int i = 1; i < _used; i++)
        {
            if (_counts[i] < _counts[min])
            {
                min = i;
            }
        }

        return min;
    }

    private void SetLabel(int i, ReadOnlySpan<byte> label)
    {
        Span<byte> slot = _labels.AsSpan(i * (LabelBytes + 1), LabelBytes + 1);
        int n = Math.Min(label.Length, LabelBytes);
        slot[0] = (byte)n;
        label[..n].CopyTo(slot[1..]);
    }

    private ReadOnlySpan<byte> Label(int i)
    {
        ReadOnlySpan<byte> slot = _labels.AsSpan(i * (LabelBytes + 1), LabelBytes + 1);
        return slot.Slice(1, slot[0]);
    }
}

/// <summary>One counter of a <see cref="HeavyHitters"/>.</summary>
/// <param name="Key">The key.</param>
/// <param name="Count">Occurrences counted (at most <see cref="Error"/> too many).</param>
/// <param name="Error">The overestimate: the count the key inherited when it took the counter.</param>
/// <param name="Bytes">Bytes added since it took the counter.</param>
/// <param name="FirstNs">Packet time it took the counter.</param>
/// <param name="LastNs">Packet time of its last occurrence.</param>
/// <param name="Label">What the key stands for (an address's 16 bytes and version, a name, a port).</param>
public readonly record struct HeavyHitter(ulong Key, long Count, long Error, long Bytes, long FirstNs, long LastNs, byte[] Label);
