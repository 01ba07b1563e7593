// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context.Profiles;

/// <summary>
/// Packet time (Unix nanoseconds, UTC) as local time in a configured time zone: time of day, day of week, hour of the
/// week. The zone's offset is looked up once per quarter hour of packet time and cached, so a call costs a division
/// and a compare. Not thread-safe: one per worker.
/// </summary>
public sealed class FlowClock
{
    private const long NsPerSecond = 1_000_000_000;
    private const long NsPerHour = 3600 * NsPerSecond;
    private const long NsPerDay = 24 * NsPerHour;
    private const long CacheSlotNs = 900 * NsPerSecond;

    private long _slot = long.MinValue;
    private long _offsetNs;

    /// <summary>A clock for <paramref name="zone"/> (UTC when null).</summary>
    /// <param name="zone">The time zone of time-of-day features and hour-of-week shapes.</param>
    public FlowClock(TimeZoneInfo? zone = null) => Zone = zone ?? TimeZoneInfo.Utc;

    /// <summary>The time zone.</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>Local time as nanoseconds since 1970-01-01 00:00 local.</summary>
    /// <param name="utcNs">Packet time, Unix nanoseconds.</param>
    /// <returns>Local nanoseconds.</returns>
    public long ToLocalNs(long utcNs)
    {
        long slot = Floor(utcNs, CacheSlotNs);
        if (slot != _slot)
        {
            // Unix nanoseconds in a long span 1677-2262, well inside DateTime's range.
            DateTime utc = DateTime.UnixEpoch.AddTicks(slot / 100);
            _offsetNs = (long)Zone.GetUtcOffset(utc).TotalSeconds * NsPerSecond;
            _slot = slot;
        }

        return utcNs + _offsetNs;
    }

    /// <summary>Seconds since local midnight, 0 to 86,400.</summary>
    /// <param name="utcNs">Packet time, Unix nanoseconds.</param>
    /// <returns>Seconds of the day.</returns>
    public double SecondsOfDay(long utcNs) => Mod(ToLocalNs(utcNs), NsPerDay) / (double)NsPerSecond;

    /// <summary>Local day of the week, 0 Sunday to 6 Saturday (as <see cref="System.DayOfWeek"/>).</summary>
    /// <param name="utcNs">Packet time, Unix nanoseconds.</param>
    /// <returns>The day.</returns>
    public int DayOfWeek(long utcNs) => (int)Mod(Floor(ToLocalNs(utcNs), NsPerDay) / NsPerDay + 4, 7); // 1970-01-01 was a Thursday

    /// <summary>Local hour of the week, 0 (Sunday 00:00-01:00) to 167.</summary>
    /// <param name="utcNs">Packet time, Unix nanoseconds.</param>
    /// <returns>The hour of the week.</returns>
    public int HourOfWeek(long utcNs) => HourOfWeekOfLocal(ToLocalNs(utcNs));

    /// <summary>Hours since 1970-01-01 00:00 local.</summary>
    /// <param name="utcNs">Packet time, Unix nanoseconds.</param>
    /// <returns>The absolute local hour.</returns>
    public long LocalHour(long utcNs) => Floor(ToLocalNs(utcNs), NsPerHour) / NsPerHour;

    internal static int HourOfWeekOfLocalHour(long localHour) => (int)Mod(localHour + (4 * 24), 168);

    private static int HourOfWeekOfLocal(long localNs) => HourOfWeekOfLocalHour(Floor(localNs, NsPerHour) / NsPerHour);

    private static long Floor(long value, long unit) => value - Mod(value, unit);

    private static long Mod(long value, long unit)
    {
        long m = value % unit;
        return m < 0 ? m + unit : m;
    }
}
