// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Flows;

namespace FlowEngine.Tests.AppLayer;

public class AppMetadataTableTests
{
    [Fact]
    public void Sizes_AsDocumented()
    {
        // docs/flow-record.md: 16 bytes per slot, about 1.2 KiB per flow with metadata.
        Assert.Equal(16, AppMetadataTable.BytesPerSlot);
        Assert.InRange(AppMetadataTable.BytesPerBlock, AppMetadataLimits.TextBytes, 1280);
    }

    [Fact]
    public void Options_OutOfRange_ClearError()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AppMetadataTable(new AppMetadataOptions { PacketBudget = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AppMetadataTable(new AppMetadataOptions { ReassemblyBytes = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AppMetadataTable(new AppMetadataOptions { MaxFlowsWithMetadata = 0 }));
    }

    [Fact]
    public void Extension_OneTablePerFlowTable()
    {
        var metadata = new AppMetadataTable();
        using var first = new FlowTable<AppMetadataExtension>(new FlowTableOptions(), FlowSink.ToList([]), new AppMetadataExtension(metadata));
        Assert.Throws<InvalidOperationException>(() => new FlowTable<AppMetadataExtension>(new FlowTableOptions(), FlowSink.ToList([]), new AppMetadataExtension(metadata)));
        Assert.Throws<InvalidOperationException>(() => new FlowTable<AppMetadataExtension>(new FlowTableOptions(), FlowSink.ToList([]), default));
    }

    [Fact]
    public void DnsTunnel_ManyQueriesInOneFlow_CountedWithDistinctNames()
    {
        // iodine: NULL queries under pirate.sea, one UDP flow (nfstream and nDPI see one flow).
        string path = Path.Combine(Capture.CaptureTestFiles.CorporaDirectory(), "nfstream/tests/pcaps/dns-tunnel-iodine.pcap");
        (List<MetadataFlow> flows, AppMetadataTable table) = MetadataRun.Run(path);
        MetadataFlow tunnel = Assert.Single(flows, f => f.App == AppProtocol.Dns && f.Record.ForwardPackets > 20);
        Assert.EndsWith("pirate.sea", tunnel[AppField.DnsQuery], StringComparison.OrdinalIgnoreCase);
        Assert.True(tunnel.DnsQueries >= 10, $"{tunnel.DnsQueries} queries");
        Assert.True(tunnel.DnsDistinctNames >= 10, $"{tunnel.DnsDistinctNames} distinct names");
        Assert.Equal(0, table.Statistics.BlocksInUse);
    }

    [Fact]
    public void NameHash_CaseFolded_AndEveryTailLengthDistinguished()
    {
        // Every length from 1 to 40 (all word tails), each name against its upper-case twin and a one-letter change
        // at every position.
        var seen = new HashSet<uint>();
        for (int length = 1; length <= 40; length++)
        {
            byte[] name = new byte[length];
            for (int i = 0; i < length; i++)
            {
                name[i] = (byte)"abcdefghij.klmnopqrstuvwxyz-0123456789"[(i * 7) % 38];
            }

            uint h = AppMetadataTable.NameHash(name);
            Assert.True(seen.Add(h), $"length {length} collides with a shorter name");
            Assert.Equal(h, AppMetadataTable.NameHash(System.Text.Encoding.ASCII.GetBytes(System.Text.Encoding.ASCII.GetString(name).ToUpperInvariant())));
            for (int i = 0; i < length; i++)
            {
                byte[] changed = (byte[])name.Clone();
                changed[i] = (byte)(changed[i] == (byte)'q' ? 'r' : 'q');
                Assert.NotEqual(h, AppMetadataTable.NameHash(changed));
            }
        }
    }
}
