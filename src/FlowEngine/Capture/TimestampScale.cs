// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;

namespace FlowEngine.Capture;

/// <summary>Converts timestamps in a capture's units (a power of 10 or of 2 per second) to Unix nanoseconds.</summary>
internal readonly struct TimestampScale
{
    private const ulong NanosPerSecond = 1_000_000_000;

    // Decimal units: ns = ticks * _multiplier / _divisor. Binary units (_shift >= 0): ns = ticks * 1e9 >> _shift.
    private readonly ulong _multiplier;
    private readonly ulong _divisor;
    private readonly int _shift;
    private readonly long _offsetNs;

    private TimestampScale(ulong multiplier, ulong divisor, int shift, long offsetNs)
    {
        _multiplier = multiplier;
        _divisor = divisor;
        _shift = shift;
        _offsetNs = offsetNs;
    }

    /// <summary>
    /// Builds the scale for a pcapng if_tsresol value: bit 7 clear, 10^-value seconds; set, 2^-(value &amp; 0x7f).
    /// </summary>
    /// <param name="tsresol">The option value.</param>
    /// <param name="offsetSeconds">The if_tsoffset value, added to every timestamp.</param>
    /// <param name="scale">The scale.</param>
    /// <returns>False for a resolution finer than 10^-19 or 2^-63 seconds.</returns>
    public static bool TryCreate(byte tsresol, long offsetSeconds, out TimestampScale scale)
    {
        long offsetNs = (long)Int128.Clamp((Int128)offsetSeconds * (long)NanosPerSecond, long.MinValue, long.MaxValue);
        int exponent = tsresol & 0x7f;
        if ((tsresol & 0x80) != 0)
        {
            scale = new TimestampScale(0, 0, exponent, offsetNs);
            return exponent <= 63;
        }

        if (exponent <= 9)
        {
            scale = new TimestampScale(Pow10(9 - exponent), 1, -1, offsetNs);
            return true;
        }

        scale = new TimestampScale(1, exponent <= 19 ? Pow10(exponent - 9) : 1, -1, offsetNs);
        return exponent <= 19;
    }

    /// <summary>Nanoseconds since the Unix epoch for <paramref name="ticks"/> units; saturates instead of wrapping.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ToNanoseconds(ulong ticks)
    {
        ulong ns;
        if (_shift < 0)
        {
            ulong high = Math.BigMul(ticks, _multiplier, out ulong low);
            // Every power-of-ten resolution from seconds to nanoseconds has a divisor of 1: no 64-bit divide.
            ns = high != 0 ? ulong.MaxValue : _divisor == 1 ? low : low / _divisor;
        }
        else
        {
            ns = (ulong)UInt128.Min(((UInt128)ticks * NanosPerSecond) >> _shift, ulong.MaxValue);
        }

        long value = ns > long.MaxValue ? long.MaxValue : (long)ns;
        long sum = value + _offsetNs;

        // Overflow only when both are positive and the sum wraps; a negative offset cannot overflow a non-negative value.
        return _offsetNs > 0 && sum < value ? long.MaxValue : sum;
    }

    private static ulong Pow10(int exponent)
    {
        ulong value = 1;
        for (int i = 0; i < exponent; i++)
        {
            value *= 10;
        }

        return value;
    }
}
