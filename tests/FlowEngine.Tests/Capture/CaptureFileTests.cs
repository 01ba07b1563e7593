// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Capture;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Capture;

public sealed class CaptureFileTests
{
    public static TheoryData<bool, bool, bool, int> PcapVariants()
    {
        var data = new TheoryData<bool, bool, bool, int>();
        foreach (bool nanosecond in new[] { false, true })
        {
            foreach (bool bigEndian in new[] { false, true })
            {
                foreach (bool gzip in new[] { false, true })
                {
                    foreach (int capacity in new[] { 1, 7, 256 })
                    {
                        data.Add(nanosecond, bigEndian, gzip, capacity);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PcapVariants))]
    public void Open_Pcap_RoundTripsEveryPacket(bool nanosecond, bool bigEndian, bool gzip, int batchCapacity)
    {
        CaptureScenario scenario = CaptureScenario.Pcap(nanosecond, bigEndian);
        byte[] bytes = gzip ? CaptureTestFiles.Gzip(scenario.Bytes) : scenario.Bytes;

        // A misleading extension: the format comes from the magic bytes.
        string path = CaptureTestFiles.Write(bytes, ".pcapng");
        using (CaptureFileReader reader = CaptureFile.Open(path))
        {
            Assert.Equal(CaptureFileFormat.Pcap, reader.Format);
            Assert.Equal(gzip, reader.IsCompressed);
            Assert.Equal(path, reader.Path);
            Assert.Equal([LinkType.Ethernet], reader.InterfaceLinkTypes);
        }

        CaptureTestFiles.AssertSamePackets(scenario.Packets, CaptureTestFiles.ReadAll(path, batchCapacity));
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 5)]
    [InlineData(false, 256)]
    [InlineData(true, 1)]
    [InlineData(true, 5)]
    [InlineData(true, 256)]
    public void Open_PcapNg_RoundTripsSectionsInterfacesAndBlockKinds(bool gzip, int batchCapacity)
    {
        CaptureScenario scenario = CaptureScenario.PcapNg();
        string path = CaptureTestFiles.Write(gzip ? CaptureTestFiles.Gzip(scenario.Bytes) : scenario.Bytes, ".pcap");
        using CaptureFileReader reader = CaptureFile.Open(path);
        Assert.Equal(CaptureFileFormat.PcapNg, reader.Format);
        Assert.Equal(gzip, reader.IsCompressed);
        Assert.Equal([LinkType.Ethernet, LinkType.Raw], reader.InterfaceLinkTypes);

        var packets = new List<TestPacket>();
        CaptureTestFiles.ReadInto(reader, packets, batchCapacity);
        CaptureTestFiles.AssertSamePackets(scenario.Packets, packets);
        Assert.Equal([LinkType.LinuxSll], reader.InterfaceLinkTypes);
        Assert.Equal(scenario.Bytes.Length, reader.Position);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_GzipWithSmallBuffer_GrowsForLargeRecordsAndRoundTrips(bool pcapNg)
    {
        CaptureScenario scenario = pcapNg ? CaptureScenario.PcapNg(bigPacketBytes: 20000) : CaptureScenario.Pcap(true, false, count: 300, bigPacketBytes: 20000);
        string path = CaptureTestFiles.Write(CaptureTestFiles.Gzip(scenario.Bytes));
        var options = new CaptureFileOptions { DecompressionBufferBytes = 4096 };
        CaptureTestFiles.AssertSamePackets(scenario.Packets, CaptureTestFiles.ReadAll(path, 64, options));
    }

    [Fact]
    public void Open_HeaderOnlyPcap_YieldsNoPackets()
    {
        string path = CaptureTestFiles.Write(TestPcapWriter.Write([], LinkType.Raw, nanosecond: false, bigEndian: true));
        using CaptureFileReader reader = CaptureFile.Open(path);
        Assert.Equal([LinkType.Raw], reader.InterfaceLinkTypes);
        var batch = new PacketBatch();
        Assert.False(reader.ReadBatch(batch));
        Assert.False(reader.ReadBatch(batch));
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void Open_SectionHeaderOnlyPcapNg_YieldsNoPackets()
    {
        string path = CaptureTestFiles.Write(new TestPcapNgWriter().Section(bigEndian: true).ToArray());
        using CaptureFileReader reader = CaptureFile.Open(path);
        Assert.Empty(reader.InterfaceLinkTypes);
        Assert.False(reader.ReadBatch(new PacketBatch()));
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { 0xd4, 0xc3, 0xb2 }, "too short")]
    [InlineData(new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 }, "too short")]
    [InlineData(new byte[] { 0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a }, "too short")]
    [InlineData(new byte[] { (byte)'G', (byte)'E', (byte)'T', (byte)' ', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "unknown capture format")]
    [InlineData(new byte[] { 0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0 }, "byte-order magic")]
    public void Open_BadHeader_ThrowsCaptureFormatExceptionAtOffsetZero(byte[] bytes, string problem)
    {
        foreach (bool gzip in new[] { false, true })
        {
            if (gzip && bytes.Length == 0)
            {
                continue;
            }

            string path = CaptureTestFiles.Write(gzip ? CaptureTestFiles.Gzip(bytes) : bytes);
            CaptureFormatException e = Assert.Throws<CaptureFormatException>(() => CaptureFile.Open(path));
            Assert.Equal(path, e.Path);
            Assert.Equal(0, e.Offset);
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Open_GzipMagicWithGarbage_ThrowsCaptureFormatException()
    {
        string path = CaptureTestFiles.Write([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        CaptureFormatException e = Assert.Throws<CaptureFormatException>(() => CaptureFile.Open(path));
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void ReadBatch_AfterDispose_ThrowsObjectDisposed()
    {
        string path = CaptureTestFiles.Write(CaptureScenario.Pcap(false, false, count: 3).Bytes);
        CaptureFileReader reader = CaptureFile.Open(path);
        reader.Dispose();
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.ReadBatch(new PacketBatch()));

        // The mapping is released: the file can be replaced and reopened.
        File.WriteAllBytes(path, CaptureScenario.Pcap(false, false, count: 5).Bytes);
        Assert.Equal(5, CaptureTestFiles.ReadAll(path).Count);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ReadBatch_SteadyState_AllocatesNothing(bool pcapNg, bool gzip)
    {
        byte[] bytes = pcapNg ? LargePcapNg() : CaptureScenario.Pcap(true, true, count: 5000, bigPacketBytes: 100).Bytes;
        string path = CaptureTestFiles.Write(gzip ? CaptureTestFiles.Gzip(bytes) : bytes);
        var batch = new PacketBatch(256);

        // A first whole pass on this thread: types first touched at the end of a stream, the runtime's per-thread
        // array-pool buckets that the decompressor's first return creates (their size depends on how many threads
        // the process has seen, which made a single pass flaky) and tiering are paid outside the measured pass.
        Assert.Equal(5000, ReadMeasured(path, batch, out _));
        Assert.Equal(5000, ReadMeasured(path, batch, out long allocated));
        Assert.Equal(0, allocated);
    }

    // Reads a whole file; allocated counts the bytes allocated after the first batch, that is, in the steady state.
    private static long ReadMeasured(string path, PacketBatch batch, out long allocated)
    {
        using CaptureFileReader reader = CaptureFile.Open(path, new CaptureFileOptions { DecompressionBufferBytes = 65536 });
        Assert.True(reader.ReadBatch(batch));
        long packets = batch.Count;
        long before = GC.GetAllocatedBytesForCurrentThread();
        while (reader.ReadBatch(batch))
        {
            packets += batch.Count;
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return packets;
    }

    private static byte[] LargePcapNg()
    {
        var random = new Random(3);
        var writer = new TestPcapNgWriter().Section(false).Interface(LinkType.Ethernet).Interface(LinkType.Raw, tsresol: 0x80 | 24);
        for (int i = 0; i < 5000; i++)
        {
            writer.Enhanced(i % 2, (ulong)i * 1000, CaptureScenario.RandomBytes(random, random.Next(40, 200)), 1500);
        }

        return writer.ToArray();
    }
}
