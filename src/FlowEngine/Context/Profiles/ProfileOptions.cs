// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context.Profiles;

/// <summary>Settings of a <see cref="ProfileStore"/>: how much each profile keeps, and its clocks.</summary>
public sealed class ProfileOptions
{
    /// <summary>Peers tracked per profile (heavy hitters). Default 32.</summary>
    public int PeersTracked { get; set; } = 32;

    /// <summary>Services (protocol and port) tracked per profile, used and offered each. Default 32.</summary>
    public int ServicesTracked { get; set; } = 32;

    /// <summary>DNS names and TLS server names tracked per profile, each. Default 32.</summary>
    public int NamesTracked { get; set; } = 32;

    /// <summary>
    /// Peers whose first-seen time a profile keeps (rounded up to a power of two; 24 bytes each). Default 1,024: a
    /// profile then takes about 48 KiB with the other defaults.
    /// </summary>
    public int PeerHistory { get; set; } = 1024;

    /// <summary>Profiles at most; flows of further VMs or networks are counted in <see cref="ProfileStore.ProfilesRefused"/>. Default 100,000.</summary>
    public int MaxProfiles { get; set; } = 100_000;

    /// <summary>The bucket over which a bandwidth sample is taken. Default 1 minute.</summary>
    public TimeSpan BandwidthBucket { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Half-life of the bandwidth EWMA. Default 1 hour.</summary>
    public TimeSpan BandwidthHalfLife { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Time zone of the hour-of-week shapes. Default UTC.</summary>
    public TimeZoneInfo TimeZone { get; set; } = TimeZoneInfo.Utc;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(PeersTracked, 1, nameof(PeersTracked));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PeersTracked, 4096, nameof(PeersTracked));
        ArgumentOutOfRangeException.ThrowIfLessThan(ServicesTracked, 1, nameof(ServicesTracked));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ServicesTracked, 4096, nameof(ServicesTracked));
        ArgumentOutOfRangeException.ThrowIfLessThan(NamesTracked, 1, nameof(NamesTracked));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(NamesTracked, 4096, nameof(NamesTracked));
        ArgumentOutOfRangeException.ThrowIfLessThan(PeerHistory, 8, nameof(PeerHistory));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PeerHistory, 1 << 22, nameof(PeerHistory));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxProfiles, 1, nameof(MaxProfiles));
        if (BandwidthBucket < TimeSpan.FromSeconds(1) || BandwidthBucket > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(BandwidthBucket), BandwidthBucket, "between 1 second and 1 hour");
        }

        if (BandwidthHalfLife < BandwidthBucket)
        {
            throw new ArgumentOutOfRangeException(nameof(BandwidthHalfLife), BandwidthHalfLife, "at least one bandwidth bucket");
        }

        ArgumentNullException.ThrowIfNull(TimeZone, nameof(TimeZone));
    }
}
