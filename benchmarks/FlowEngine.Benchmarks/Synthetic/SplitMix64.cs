// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;

namespace FlowEngine.Benchmarks.Synthetic;

/// <summary>
/// SplitMix64 generator (Steele, Lea, Flood 2014). Used instead of <see cref="Random"/> because a seeded
/// <see cref="Random"/> does not promise the same sequence across .NET versions, and captures must be reproducible.
/// </summary>
public struct SplitMix64
{
    private const ulong Gamma = 0x9E37_79B9_7F4A_7C15;
    private ulong _state;

    /// <summary>Creates a generator.</summary>
    /// <param name="seed">Any value.</param>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>64 random bits.</summary>
    /// <returns>The next value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        _state += Gamma;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 bits of precision.</summary>
    /// <returns>The next value.</returns>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="n"/>) by multiply-shift (bias below 2^-32 for small n).</summary>
    /// <param name="n">Exclusive bound, at least 1.</param>
    /// <returns>The next value.</returns>
    public int NextInt(int n) => (int)(((NextUInt64() >> 32) * (ulong)(uint)n) >> 32);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    /// <param name="p">Probability in [0, 1].</param>
    /// <returns>The outcome.</returns>
    public bool NextBool(double p) => NextDouble() < p;

    /// <summary>The SplitMix64 output function: a bijective 64-bit mixer, also used to derive per-flow values.</summary>
    /// <param name="z">Input.</param>
    /// <returns>Mixed value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }
}
