// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Context;

/// <summary>
/// Behavioural profiles: the bounded structures against exact counts, the clock against .NET's own time-zone
/// conversion, the store against the lab capture's own records, bandwidth shapes on synthetic traffic, and snapshots
/// (round trip, every corruption refused with file and offset, never a crash).
/// </summary>
public sealed class ProfileTests
{
    [Fact]
    public void HeavyHitters_OnAZipfStream_TracksEveryFrequentKeyWithinItsErrorBound()
    {
        const int capacity = 32, n = 50_000;
        var hh = new HeavyHitters(capacity);
        var exact = new Dictionary<ulong, long>();
        var random = new Random(7);
        for (int i = 0; i < n; i++)
        {
            // Zipf-like over 2,000 keys: key k with probability ~ 1/k.
            ulong key = (ulong)Math.Floor(Math.Exp(random.NextDouble() * Math.Log(2000)));
            exact[key] = exact.GetValueOrDefault(key) + 1;
            hh.Add(key, 10, i, BitConverter.GetBytes(key));
        }

        Assert.Equal(n, hh.Total);
        Assert.Equal(capacity, hh.Count);
        IReadOnlyList<HeavyHitter> top = hh.Top();
        foreach ((ulong key, long count) in exact.Where(e => e.Value > n / capacity))
        {
            HeavyHitter e = Assert.Single(top, t => t.Key == key);
            Assert.InRange(count, e.Count - e.Error, e.Count);
            Assert.Equal(key, BitConverter.ToUInt64(e.Label));
        }

        Assert.All(top, e => Assert.True(e.Count - e.Error <= exact[e.Key]));
        Assert.Equal(top.OrderByDescending(e => e.Count).Select(e => e.Count), top.Select(e => e.Count));
    }

    [Fact]
    public void PeerHistory_RemembersFirstSeen_AndForgetsTheStalestWhenFull()
    {
        var h = new PeerHistory(64);
        Assert.True(h.Observe(42, 100, out long first));
        Assert.Equal(100, first);
        Assert.False(h.Observe(42, 500, out first));
        Assert.Equal(100, first);
        Assert.True(h.Observe(0, 7, out _)); // key 0 is a valid key
        Assert.False(h.Observe(0, 8, out _));

        for (ulong k = 1000; k < 1500; k++)
        {
            h.Observe(k, (long)k, out _);
        }

        Assert.True(h.Count <= h.Capacity);
        Assert.Equal(502 - h.Count, h.Forgotten);
        Assert.True(h.TryGetFirstSeen(1499, out long latest) && latest == 1499);
    }

    [Theory]
    [InlineData("Europe/Berlin")]
    [InlineData("America/New_York")]
    [InlineData("Australia/Lord_Howe")]
    [InlineData("Asia/Kathmandu")]
    public void FlowClock_AgreesWithTimeZoneInfo_AcrossDaylightSavingTransitions(string zoneId)
    {
        TimeZoneInfo zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var clock = new FlowClock(zone);
        var random = new Random(zoneId.Length);
        long start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1_000_000;
        for (int i = 0; i < 20_000; i++)
        {
            // Sorted-ish times, as packet time is, with a step of up to 40 minutes: every transition of 2025 is crossed.
            start += (long)(random.NextDouble() * 2400e9);
            DateTime local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.UnixEpoch.AddTicks(start / 100), zone);
            // DateTime keeps 100 ns ticks: compare to a microsecond.
            Assert.InRange(clock.SecondsOfDay(start) - local.TimeOfDay.TotalSeconds, -1e-6, 1e-6);
            Assert.Equal((int)local.DayOfWeek, clock.DayOfWeek(start));
            Assert.Equal(((int)local.DayOfWeek * 24) + local.Hour, clock.HourOfWeek(start));
        }
    }

    [Fact]
    public void Store_OnTheLabCapture_AddsUpToTheRecords()
    {
        string data = Path.Combine(Repository.Root(), "samples", "data");
        var vms = new VmIdentityTable(VmInventory.Load(Path.Combine(data, "lab-small.inventory.csv")));
        var metadata = new AppMetadataTable();
        var store = new ProfileStore();
        var flows = new List<(FlowRecord Record, string? Src, string? Dst, bool SrcOutside, bool DstOutside, string? Dns)>();
        var sink = new ObservingSink(store, metadata, vms, flows);
        using (CaptureFileReader reader = CaptureFile.Open(Path.Combine(data, "lab-small.pcapng")))
        using (var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(sink, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms))))
        {
            pipeline.Run(reader);
        }

        foreach (string name in vms.Vms.Select(v => v.Name).Distinct())
        {
            var originated = flows.Where(f => f.Src == name).ToList();
            var answered = flows.Where(f => f.Dst == name).ToList();
            if (originated.Count + answered.Count == 0)
            {
                Assert.False(store.TryGet(name, out _), name);
                continue;
            }

            Assert.True(store.TryGet(name, out BehaviourProfile p), name);
            Assert.Equal(originated.Count, p.FlowsOut);
            Assert.Equal(answered.Count, p.FlowsIn);
            Assert.Equal(originated.Sum(f => (double)f.Record.ForwardBytes) + answered.Sum(f => (double)f.Record.ReverseBytes), p.BytesOut);
            Assert.Equal(originated.Sum(f => (double)f.Record.ReverseBytes) + answered.Sum(f => (double)f.Record.ForwardBytes), p.BytesIn);
            Assert.Equal(p.Flows, p.Protocols.ToArray().Sum());
            Assert.Equal(p.Flows, p.Applications.ToArray().Sum());

            // Peers: exact while a VM has fewer distinct peers than counters.
            var peers = originated.Select(f => f.Record.DestinationAddress.ToString(f.Record.IpVersion))
                .Concat(answered.Select(f => f.Record.SourceAddress.ToString(f.Record.IpVersion))).GroupBy(a => a).ToDictionary(g => g.Key, g => g.LongCount());
            Assert.Equal(peers.Count, p.PeerFirstSeen.Count);
            if (peers.Count <= p.Peers.Capacity)
            {
                var top = p.Peers.Top().ToDictionary(e => new System.Net.IPAddress(e.Label[16] == 6 ? e.Label.AsSpan(0, 16) : e.Label.AsSpan(0, 4)).ToString(), e => e.Count);
                Assert.Equal(peers.OrderBy(e => e.Key), top.OrderBy(e => e.Key));
            }
        }

        // The DNS tunnel's VM (acme-ws1) asked hundreds of distinct names: its name counters are full and bounded.
        Assert.True(store.TryGet("acme-ws1", out BehaviourProfile ws1));
        Assert.Equal(ws1.DnsNames.Capacity, ws1.DnsNames.Count);
        Assert.Equal(flows.Count(f => f.Src == "acme-ws1" && f.Dns is not null), ws1.DnsNames.Total);

        // The networks: every flow of each VNI counted once.
        Assert.True(store.TryGet("vni:5001", out BehaviourProfile acme));
        Assert.Equal(flows.Count(f => f.Record.VnId == 5001), acme.Flows);
        // What left the network: sent to outside peers, and answered to outside peers that called in.
        Assert.Equal(flows.Where(f => f.Record.VnId == 5001).Sum(f => f.DstOutside ? (double)f.Record.ForwardBytes : f.SrcOutside ? f.Record.ReverseBytes : 0), acme.BytesOut);
        Assert.Equal(flows.Where(f => f.Record.VnId == 5001).Sum(f => f.DstOutside ? (double)f.Record.ReverseBytes : f.SrcOutside ? f.Record.ForwardBytes : 0), acme.BytesIn);
    }

    [Fact]
    public void Bandwidth_SteadyRate_GivesThatRate_AndDecaysOverSilence()
    {
        var store = new ProfileStore(new ProfileOptions { BandwidthBucket = TimeSpan.FromMinutes(1), BandwidthHalfLife = TimeSpan.FromMinutes(10) });
        var vm = new VmInfo("vm-a", VmSource.Inventory) { Vni = 1 };
        long t0 = new DateTimeOffset(2025, 3, 3, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1_000_000; // a Monday
        // 1,000 B/s out for two hours: one 60,000-byte flow per minute, each ending at the minute's last second.
        for (int m = 0; m < 120; m++)
        {
            Observe(store, vm, t0 + (m * 60_000_000_000L) + 59_000_000_000L, 60_000, 6_000);
        }

        Assert.True(store.TryGet("vm-a", out BehaviourProfile p));
        Assert.Equal(1000, p.EwmaBytesPerSecondOut, 0);
        Assert.Equal(100, p.EwmaBytesPerSecondIn, 0);
        int monday0 = (1 * 24) + 0;
        Assert.Equal(1000, p.MeanBytesPerSecondOut(monday0), 0);
        Assert.Equal(1000, p.MeanBytesPerSecondOut(monday0 + 1), 0);
        Assert.Equal(1, p.HoursSeen(monday0));

        // Thirty silent minutes (three half-lives), then a flow: the average has fallen to about an eighth.
        Observe(store, vm, t0 + (150 * 60_000_000_000L) + 1, 1, 0);
        Assert.InRange(p.EwmaBytesPerSecondOut, 1000 / 8.0 * 0.85, 1000 / 8.0 * 1.15);

        // A week later the same hour has been lived through twice: its mean halves with no traffic in the second.
        Observe(store, vm, t0 + (7 * 24 * 3600_000_000_000L) + (3 * 3600_000_000_000L), 1, 0);
        Assert.Equal(2, p.HoursSeen(monday0));
        Assert.Equal(500, p.MeanBytesPerSecondOut(monday0), 0);
    }

    [Fact]
    public void Snapshot_RoundTrips_AndEveryCorruptionIsAClearError()
    {
        ProfileStore store = LabStore();
        byte[] bytes = Save(store);
        ProfileStore back = ProfileStore.Load(new MemoryStream(bytes), "p.bin", null);
        Assert.Equal(bytes, Save(back));
        Assert.Equal(store.Profiles.Select(p => p.Name).Order(), back.Profiles.Select(p => p.Name).Order());

        var random = new Random(3);
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] bad = (byte[])bytes.Clone();
            if (trial % 3 == 0)
            {
                bad = bad[..random.Next(bad.Length)];
            }
            else
            {
                bad[random.Next(bad.Length)] ^= (byte)(1 << random.Next(8));
            }

            var e = Assert.Throws<ProfileSnapshotException>(() => ProfileStore.Load(new MemoryStream(bad), "p.bin", null));
            Assert.StartsWith("p.bin: offset ", e.Message, StringComparison.Ordinal);
            Assert.InRange(e.Offset, 0, bytes.Length);
        }

        string dir = Directory.CreateTempSubdirectory("fe-profiles-").FullName;
        try
        {
            string file = Path.Combine(dir, "p.bin");
            File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
            ProfileStore empty = ProfileStore.LoadOrEmpty(file, null, out string? error);
            Assert.Empty(empty.Profiles);
            Assert.Contains(file, error, StringComparison.Ordinal);

            store.Save(file);
            Assert.Equal(bytes, File.ReadAllBytes(file));
            Assert.Equal(store.Profiles.Count, ProfileStore.LoadOrEmpty(file, null, out error).Profiles.Count);
            Assert.Null(error);
            Assert.Empty(ProfileStore.LoadOrEmpty(Path.Combine(dir, "none.bin"), null, out error).Profiles);
            Assert.Null(error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Store_IsBounded_InProfiles()
    {
        var store = new ProfileStore(new ProfileOptions { MaxProfiles = 3 });
        for (int i = 0; i < 10; i++)
        {
            Observe(store, new VmInfo($"vm-{i}", VmSource.Inventory) { Vni = 1 }, 1_000_000_000L * (i + 1), 10, 10);
        }

        Assert.Equal(3, store.Profiles.Count);
        Assert.True(store.ProfilesRefused > 0);
    }

    private static void Observe(ProfileStore store, VmInfo vm, long endNs, ulong bytesOut, ulong bytesIn)
    {
        var record = new FlowRecord
        {
            FirstNs = endNs - 1000,
            LastNs = endNs,
            ForwardBytes = bytesOut,
            ReverseBytes = bytesIn,
            ForwardPackets = 1,
            ReversePackets = 1,
            Protocol = 6,
            DestinationPort = 443,
            IpVersion = 4,
            VnKind = VirtualNetworkKind.Vxlan,
            VnId = 1,
            DestinationAddress = IpAddress.From(System.Net.IPAddress.Parse("192.0.2.1")),
        };
        var identity = new VmIdentity(vm, null, false, true, float.NaN, float.NaN);
        store.Observe(in record, in identity, default);
    }

    private static ProfileStore LabStore()
    {
        string data = Path.Combine(Repository.Root(), "samples", "data");
        var vms = new VmIdentityTable(VmInventory.Load(Path.Combine(data, "lab-small.inventory.csv")));
        var metadata = new AppMetadataTable();
        var store = new ProfileStore();
        using CaptureFileReader reader = CaptureFile.Open(Path.Combine(data, "lab-small.pcapng"));
        using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
            new ObservingSink(store, metadata, vms, null), new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms)));
        pipeline.Run(reader);
        return store;
    }

    private static byte[] Save(ProfileStore store)
    {
        var m = new MemoryStream();
        store.Save(m);
        return m.ToArray();
    }

    private sealed class ObservingSink(ProfileStore store, AppMetadataTable metadata, VmIdentityTable vms, List<(FlowRecord, string?, string?, bool, bool, string?)>? flows) : IFlowSink
    {
        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                VmIdentity v = vms.ForRecord(i);
                AppMetadata m = metadata.ForRecord(i);
                ReadOnlySpan<byte> dns = m.Get(AppField.DnsQuery);
                flows?.Add((records[i], v.Source?.Name, v.Destination?.Name, v.SourceOutside, v.DestinationOutside, dns.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(dns)));
                store.Observe(in records[i], in v, m);
            }
        }

        public void Flush()
        {
        }

        public void Complete()
        {
        }
    }
}
