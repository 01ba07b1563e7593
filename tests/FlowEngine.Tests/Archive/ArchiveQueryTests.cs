// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Archive;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Archive;

/// <summary>Every query against a brute-force filter over the records the pipeline handed the writer.</summary>
public sealed class ArchiveQueryTests : IDisposable
{
    private readonly string _dir = ArchiveTestData.TempDirectory();
    private readonly List<ExpectedFlow> _all;

    public ArchiveQueryTests()
    {
        // Small frames and segments: queries cross many frames and several segments.
        _all = ArchiveTestData.WriteLab(_dir, new ArchiveWriterOptions { RecordsPerFrame = 32, MaxSegmentBytes = 16 << 10 });
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Queries => new()
    {
        "all", "time", "time-narrow", "vm", "vm-absent", "vni", "cidr24", "ip-exact", "ipv6", "port53", "port8080", "udp", "tcp",
        "icmp6", "dns", "http", "unknown-app", "alert", "vm+udp+time", "alert+tcp", "nothing",
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Query_MatchesBruteForceFilter(string name)
    {
        (ArchiveQuery query, Func<ExpectedFlow, bool> oracle) = Build(name);
        var reader = new ArchiveReader(_dir);
        Assert.True(reader.SegmentCount > 3, $"{reader.SegmentCount} segments");
        using ArchiveCursor cursor = reader.OpenCursor(query);
        var actual = new List<ExpectedFlow>();
        while (cursor.MoveNext())
        {
            actual.Add(ExpectedFlow.Of(cursor.Current));
        }

        List<ExpectedFlow> expected = _all.Where(oracle).ToList();
        ArchiveTestData.AssertSame(expected, actual, name);
        Assert.Empty(reader.Issues);
        if (name is "time-narrow" or "vm-absent" or "nothing" or "alert+tcp" or "vm+udp+time" or "ipv6")
        {
            Assert.True(cursor.FramesSkipped > 0, $"{name}: the index skipped no frame ({cursor.FramesRead} read)");
        }

        if (name is "all")
        {
            Assert.Equal(reader.FrameCount, cursor.FramesRead);
        }
    }

    private (ArchiveQuery, Func<ExpectedFlow, bool>) Build(string name)
    {
        long[] firsts = _all.Select(e => e.Record.FirstNs).Order().ToArray();
        long median = firsts[firsts.Length / 2];
        string commonVm = _all.Where(e => e.SourceVm is not null).GroupBy(e => e.SourceVm!).OrderByDescending(g => g.Count()).First().Key;
        uint commonVni = _all.Where(e => e.Record.VnKind != VirtualNetworkKind.None).GroupBy(e => e.Record.VnId).OrderByDescending(g => g.Count()).First().Key;
        ExpectedFlow v4 = _all.First(e => e.Record.IpVersion == 4 && e.Record.VnKind != VirtualNetworkKind.None);
        string address = v4.Record.SourceAddress.ToString(4);
        string cidr = address[..address.LastIndexOf('.')] + ".0/24";
        bool InCidr(in IpAddress a, byte version)
        {
            if (version != 4)
            {
                return false;
            }

            uint prefix = v4.Record.SourceAddress.V4HostOrder & 0xFFFFFF00;
            return (a.V4HostOrder & 0xFFFFFF00) == prefix;
        }

        ArchiveQuery Q(Action<ArchiveQuery> set)
        {
            var q = new ArchiveQuery();
            set(q);
            return q;
        }

        bool Vm(ExpectedFlow e, string vm) => e.SourceVm == vm || e.DestinationVm == vm;
        switch (name)
        {
            case "all":
                return (new ArchiveQuery(), _ => true);
            case "time":
                return (Q(q => { q.FromNs = median; q.ToNs = median + 5_000_000_000; }), e => e.Record.LastNs >= median && e.Record.FirstNs <= median + 5_000_000_000);
            case "time-narrow":
                return (Q(q => { q.FromNs = median; q.ToNs = median + 1; }), e => e.Record.LastNs >= median && e.Record.FirstNs <= median + 1);
            case "vm":
                return (Q(q => q.Vm = commonVm), e => Vm(e, commonVm));
            case "vm-absent":
                return (Q(q => q.Vm = "no-such-vm"), _ => false);
            case "vni":
                return (Q(q => q.Vni = commonVni), e => e.Record.VnKind != VirtualNetworkKind.None && e.Record.VnId == commonVni);
            case "cidr24":
                return (Q(q => q.SetNetwork(cidr)), e => InCidr(e.Record.SourceAddress, e.Record.IpVersion) || InCidr(e.Record.DestinationAddress, e.Record.IpVersion));
            case "ip-exact":
                return (Q(q => q.SetNetwork(address)), e => e.Record.IpVersion == 4 && (e.Record.SourceAddress == v4.Record.SourceAddress || e.Record.DestinationAddress == v4.Record.SourceAddress));
            case "ipv6":
                return (Q(q => q.SetNetwork("::/0")), e => e.Record.IpVersion == 6);
            case "port53":
                return (Q(q => q.Port = 53), e => e.Record.SourcePort == 53 || e.Record.DestinationPort == 53);
            case "port8080":
                return (Q(q => q.Port = 8080), e => e.Record.SourcePort == 8080 || e.Record.DestinationPort == 8080);
            case "udp":
                return (Q(q => q.Protocol = 17), e => e.Record.Protocol == 17);
            case "tcp":
                return (Q(q => q.Protocol = 6), e => e.Record.Protocol == 6);
            case "icmp6":
                return (Q(q => q.Protocol = 58), e => e.Record.Protocol == 58);
            case "dns":
                return (Q(q => q.App = AppProtocol.Dns), e => e.App == AppProtocol.Dns);
            case "http":
                return (Q(q => q.App = AppProtocol.Http), e => e.App == AppProtocol.Http);
            case "unknown-app":
                return (Q(q => q.App = AppProtocol.Unknown), e => e.App == AppProtocol.Unknown);
            case "alert":
                return (Q(q => q.AlertsOnly = true), e => e.IsAlert);
            case "vm+udp+time":
                return (Q(q => { q.Vm = commonVm; q.Protocol = 17; q.FromNs = median; }), e => Vm(e, commonVm) && e.Record.Protocol == 17 && e.Record.LastNs >= median);
            case "alert+tcp":
                return (Q(q => { q.AlertsOnly = true; q.Protocol = 6; q.Port = 5432; }), e => e.IsAlert && e.Record.Protocol == 6 && (e.Record.SourcePort == 5432 || e.Record.DestinationPort == 5432));
            case "nothing":
                return (Q(q => q.Port = 1), e => e.Record.SourcePort == 1 || e.Record.DestinationPort == 1);
            default:
                throw new ArgumentException(name);
        }
    }

    [Theory]
    [InlineData("all")]
    [InlineData("vm")]
    [InlineData("udp")]
    [InlineData("time")]
    public void ReadByFirstPacket_EqualsOracleSortedByFirstPacket(string name)
    {
        (ArchiveQuery query, Func<ExpectedFlow, bool> oracle) = Build(name);
        var reader = new ArchiveReader(_dir);
        List<ExpectedFlow> actual = reader.ReadByFirstPacket(query).Select(ExpectedFlow.Of).ToList();

        // OrderBy is stable: ties stay in archive order.
        List<ExpectedFlow> expected = _all.Where(oracle).OrderBy(e => e.Record.FirstNs).ToList();
        if (name == "all")
        {
            // Emission order is not first-packet order: the merge has work to do.
            Assert.NotEqual(_all.Select(e => e.Record.FirstNs), expected.Select(e => e.Record.FirstNs));
        }

        ArchiveTestData.AssertSame(expected, actual, name);
        Assert.Empty(reader.Issues);
    }

    [Fact]
    public void Oracle_QueriesAreNotTrivial()
    {
        // The theory's conditions select proper, non-empty subsets of the capture (else matching them proves little).
        Assert.InRange(_all.Count(e => e.App == AppProtocol.Dns), 1, _all.Count - 1);
        Assert.InRange(_all.Count(e => e.IsAlert), 1, _all.Count - 1);
        Assert.InRange(_all.Count(e => e.Record.IpVersion == 6), 1, _all.Count - 1);
        Assert.InRange(_all.Count(e => e.Record.Protocol == 17), 1, _all.Count - 1);
    }

    [Theory]
    [InlineData("10.1.2.0/24", 4, 24)]
    [InlineData("10.1.2.3", 4, 32)]
    [InlineData("fd00::/64", 6, 64)]
    public void SetNetwork_Cidr_ParsesVersionAndPrefix(string text, byte version, int prefix)
    {
        var q = new ArchiveQuery();
        q.SetNetwork(text);
        Assert.Equal((version, prefix), (q.IpVersion, q.PrefixLength));
    }

    [Theory]
    [InlineData("10.1.2.0/33")]
    [InlineData("nonsense")]
    [InlineData("10.1.2.0/x")]
    public void SetNetwork_Bad_ThrowsFormatException(string text) => Assert.Throws<FormatException>(() => new ArchiveQuery().SetNetwork(text));

    [Theory]
    [InlineData("1700000000.5", 1_700_000_000_500_000_000)]
    [InlineData("2023-11-14T22:13:20Z", 1_700_000_000_000_000_000)]
    [InlineData("2023-11-14T23:13:20+01:00", 1_700_000_000_000_000_000)]
    public void ParseTime_UnixOrIso_GivesUnixNs(string text, long ns) => Assert.Equal(ns, ArchiveQuery.ParseTime(text));
}
