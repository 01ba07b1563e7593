// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Detection.Internal;

/// <summary>
/// State per key in a table of fixed capacity: arrays of value-type states indexed through a dictionary sized once,
/// so that a lookup, an insert and an eviction allocate nothing. When full, the least recently touched of eight
/// entries sampled round the table makes room (sampled LRU), and <see cref="Evicted"/> counts it.
/// </summary>
internal sealed class BoundedTable<TKey, TState>
    where TKey : struct, IEquatable<TKey>
    where TState : struct
{
    private const int Sample = 8;
    private readonly Dictionary<TKey, int> _index;
    private readonly TKey[] _keys;
    private readonly TState[] _states;
    private readonly long[] _touched;
    private int _count;
    private int _hand;

    public BoundedTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _index = new Dictionary<TKey, int>(capacity);
        _keys = new TKey[capacity];
        _states = new TState[capacity];
        _touched = new long[capacity];
    }

    public int Count => _count;

    public int Capacity => _keys.Length;

    public long Evicted { get; private set; }

    /// <summary>The state of <paramref name="key"/>, created zeroed (<paramref name="added"/> true) when absent.</summary>
    public ref TState GetOrAdd(in TKey key, long nowNs, out bool added)
    {
        if (_index.TryGetValue(key, out int i))
        {
            added = false;
        }
        else
        {
            if (_count < _keys.Length)
            {
                i = _count++;
            }
            else
            {
                i = Victim();
                _index.Remove(_keys[i]);
                Evicted++;
            }

            _index.Add(key, i);
            _keys[i] = key;
            _states[i] = default;
            added = true;
        }

        _touched[i] = nowNs;
        return ref _states[i];
    }

    private int Victim()
    {
        int best = _hand;
        for (int k = 1; k < Sample; k++)
        {
            int j = (_hand + k) % _keys.Length;
            if (_touched[j] < _touched[best])
            {
                best = j;
            }
        }

        _hand = (_hand + Sample) % _keys.Length;
        return best;
    }
}
