// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Numerics;

namespace FlowEngine.Context.Profiles;

/// <summary>
/// When each key (a peer, a port, a name) was first and last seen, in fixed memory: open addressing over a power-of-two
/// table with linear probes of at most 8 slots. When the probe window is full, the entry seen least recently in it is
/// forgotten (counted in <see cref="Forgotten"/>), so a long-lived profile keeps the peers that stay in use and a
/// flood of one-off keys cannot grow it. Nothing is allocated after construction.
/// </summary>
public sealed class PeerHistory
{
    private const int Probe = 8;

    private readonly ulong[] _keys;
    private readonly long[] _firstNs;
    private readonly long[] _lastNs;
    private readonly int _mask;
    private int _count;

    /// <summary>A history of at most <paramref name="capacity"/> keys (rounded up to a power of two).</summary>
    /// <param name="capacity">Keys kept, 8 to 2^22.</param>
    public PeerHistory(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 22);
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)capacity);
        _keys = new ulong[size];
        _firstNs = new long[size];
        _lastNs = new long[size];
        _mask = size - 1;
    }

    /// <summary>Slots.</summary>
    public int Capacity => _keys.Length;

    /// <summary>Keys held.</summary>
    public int Count => _count;

    /// <summary>Keys forgotten to make room.</summary>
    public long Forgotten { get; private set; }

    /// <summary>Records that <paramref name="key"/> was seen at <paramref name="timeNs"/>.</summary>
    /// <param name="key">The key (0 is mapped to another value).</param>
    /// <param name="timeNs">Packet time.</param>
    /// <param name="firstNs">When it was first seen (this time for a new key).</param>
    /// <returns>True when the key is new (never seen, or forgotten).</returns>
    public bool Observe(ulong key, long timeNs, out long firstNs)
    {
        key = key == 0 ? 0x9E3779B97F4A7C15UL : key;
        int home = (int)(Mix(key) & (uint)_mask);
        int victim = -1;
        for (int p = 0; p < Probe; p++)
        {
            int i = (home + p) & _mask;
            if (_keys[i] == key)
            {
                _lastNs[i] = Math.Max(_lastNs[i], timeNs);
                firstNs = _firstNs[i];
                return false;
            }

            if (_keys[i] == 0)
            {
                victim = i;
                break;
            }

            if (victim < 0 || _lastNs[i] < _lastNs[victim])
            {
                victim = i;
            }
        }

        if (_keys[victim] == 0)
        {
            _count++;
        }
        else
        {
            Forgotten++;
        }

        _keys[victim] = key;
        _firstNs[victim] = timeNs;
        _lastNs[victim] = timeNs;
        firstNs = timeNs;
        return true;
    }

    /// <summary>When <paramref name="key"/> was first seen, if it is held.</summary>
    /// <param name="key">The key.</param>
    /// <param name="firstNs">First-seen time.</param>
    /// <returns>Whether it is held.</returns>
    public bool TryGetFirstSeen(ulong key, out long firstNs)
    {
        key = key == 0 ? 0x9E3779B97F4A7C15UL : key;
        int home = (int)(Mix(key) & (uint)_mask);
        for (int p = 0; p < Probe; p++)
        {
            int i = (home + p) & _mask;
            if (_keys[i] == key)
            {
                firstNs = _firstNs[i];
                return true;
            }

            if (_keys[i] == 0)
            {
                break;
            }
        }

        firstNs = 0;
        return false;
    }

    internal IEnumerable<(ulong Key, long FirstNs, long LastNs)> Entries()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] != 0)
            {
                yield return (_keys[i], _firstNs[i], _lastNs[i]);
            }
        }
    }

    internal void Restore(ulong key, long firstNs, long lastNs)
    {
        Observe(key, lastNs, out _);
        int home = (int)(Mix(key) & (uint)_mask);
        for (int p = 0; p < Probe; p++)
        {
            int i = (home + p) & _mask;
            if (_keys[i] == key)
            {
                _firstNs[i] = firstNs;
                return;
            }
        }
    }

    internal void RestoreForgotten(long forgotten) => Forgotten = forgotten;

    // Keys are hashes already, but of structured values; a finaliser spreads them over the low bits used as index.
    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        return x;
    }
}
