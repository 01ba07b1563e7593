// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using CsCheck;
using FlowEngine.Capture;

namespace FlowEngine.Tests.Capture;

/// <summary>Truncated and corrupt captures: packets before the damage, then one <see cref="CaptureFormatException"/>.</summary>
public sealed class CaptureFileDamageTests
{
    [Theory]
    [InlineData(false, CaptureFileAccess.MemoryMapped)]
    [InlineData(true, CaptureFileAccess.MemoryMapped)]
    [InlineData(false, CaptureFileAccess.Buffered)]
    [InlineData(true, CaptureFileAccess.Buffered)]
    public void ReadBatch_TruncatedAtEveryByte_YieldsCompletePacketsThenOneErrorAtTheCutRecord(bool pcapNg, CaptureFileAccess access)
    {
        var options = new CaptureFileOptions { Access = access, ReadBufferBytes = 4096 };
        CaptureScenario scenario = pcapNg
            ? CaptureScenario.PcapNg(bigPacketBytes: 70, extraPackets: 2)
            : CaptureScenario.Pcap(nanosecond: false, bigEndian: true, count: 8, bigPacketBytes: 70, maxPacketBytes: 100);
        int headerLength = pcapNg ? 28 : 24;
        for (int cut = 0; cut <= scenario.Bytes.Length; cut++)
        {
            string path = CaptureTestFiles.Write(scenario.Bytes[..cut]);
            int complete = scenario.PacketEnds.Count(end => end <= cut);
            bool clean = scenario.Boundaries.Contains(cut) && cut >= headerLength;
            long damagedAt = cut < headerLength ? 0 : scenario.Boundaries.Where(b => b <= cut).Max();
            var packets = new List<TestPacket>();
            CaptureFormatException? error = null;
            CaptureFileReader? reader = null;
            try
            {
                reader = CaptureFile.Open(path, options);
                CaptureTestFiles.ReadInto(reader, packets, batchCapacity: 3);
            }
            catch (CaptureFormatException e)
            {
                error = e;
            }

            string context = $"cut at {cut} of {scenario.Bytes.Length}";
            Assert.True(clean == (error is null), $"{context}: {error?.Message ?? "no error"}");
            Assert.True(complete == packets.Count, $"{context}: {packets.Count} packets, expected {complete}");
            CaptureTestFiles.AssertSamePackets(scenario.Packets.Take(complete).ToList(), packets);
            if (error is not null)
            {
                Assert.Equal(path, error.Path);
                Assert.True(damagedAt == error.Offset, $"{context}: {error.Message}, expected offset {damagedAt}");
                Assert.Contains(path, error.Message, StringComparison.Ordinal);
                Assert.Contains($"offset {damagedAt}", error.Message, StringComparison.Ordinal);
                if (reader is not null)
                {
                    // One exception: afterwards the source has ended.
                    Assert.False(reader.ReadBatch(new PacketBatch()));
                }
            }

            reader?.Dispose();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadBatch_TruncatedGzip_YieldsPrefixAndOnlyCaptureFormatException(bool pcapNg)
    {
        CaptureScenario scenario = pcapNg
            ? CaptureScenario.PcapNg(bigPacketBytes: 70, extraPackets: 2)
            : CaptureScenario.Pcap(nanosecond: true, bigEndian: false, count: 8, bigPacketBytes: 70, maxPacketBytes: 100);
        byte[] compressed = CaptureTestFiles.Gzip(scenario.Bytes);
        for (int cut = 1; cut <= compressed.Length; cut++)
        {
            string path = CaptureTestFiles.Write(compressed[..cut]);
            var packets = new List<TestPacket>();
            try
            {
                using CaptureFileReader reader = CaptureFile.Open(path);
                CaptureTestFiles.ReadInto(reader, packets, batchCapacity: 2);
            }
            catch (CaptureFormatException e)
            {
                Assert.Equal(path, e.Path);
                Assert.InRange(e.Offset, 0, scenario.Bytes.Length);
            }

            CaptureTestFiles.AssertSamePackets(scenario.Packets.Take(packets.Count).ToList(), packets);
            if (cut == compressed.Length)
            {
                Assert.Equal(scenario.Packets.Count, packets.Count);
            }
        }
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    public void ReadBatch_RandomByteMutations_NeverThrowAnythingElse(int format, bool gzip)
    {
        byte[] original = format switch
        {
            0 => CaptureScenario.Pcap(nanosecond: false, bigEndian: false, count: 6, bigPacketBytes: 60, maxPacketBytes: 100).Bytes,
            1 => CaptureScenario.PcapNg(bigPacketBytes: 60, extraPackets: 2).Bytes,
            _ => CaptureScenario.Pcap(nanosecond: true, bigEndian: true, count: 6, bigPacketBytes: 60, maxPacketBytes: 100).Bytes,
        };
        Gen.Select(Gen.Int[0, original.Length - 1], Gen.Byte).Array[1, 6]
            .Sample(
                mutations =>
                {
                    byte[] bytes = (byte[])original.Clone();
                    foreach ((int index, byte value) in mutations)
                    {
                        bytes[index] = value;
                    }

                    ReadExpectingOnlyCaptureFormatException(gzip ? CaptureTestFiles.Gzip(bytes) : bytes, gzip ? long.MaxValue : bytes.Length);
                },
                iter: 400);
    }

    [Fact]
    public void ReadBatch_RandomBytesAfterMagic_NeverThrowAnythingElse()
    {
        Gen.Select(Gen.Int[0, 2], Gen.Byte.Array[0, 200])
            .Sample(
                t =>
                {
                    byte[] magic = t.Item1 switch
                    {
                        0 => [0xd4, 0xc3, 0xb2, 0xa1],
                        1 => [0x4d, 0x3c, 0xb2, 0xa1],
                        _ => [0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a],
                    };
                    byte[] bytes = [.. magic, .. t.Item2];
                    ReadExpectingOnlyCaptureFormatException(bytes, bytes.Length);
                },
                iter: 400);
    }

    [Fact]
    public void ReadBatch_PcapCapturedLengthAboveLimit_ReportsRecordOffset()
    {
        CaptureScenario scenario = CaptureScenario.Pcap(nanosecond: false, bigEndian: false, count: 4, bigPacketBytes: 10);
        byte[] bytes = scenario.Bytes;
        int third = scenario.PacketEnds[1];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(third + 8), 262145);
        CaptureFormatException e = ReadUntilError(bytes, expectedPackets: 2);
        Assert.Equal(third, e.Offset);
        Assert.Contains("captured length 262145 is larger than the limit of 262144", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u, "not a multiple of 4")]
    [InlineData(8u, "not a multiple of 4")]
    [InlineData(30u, "not a multiple of 4")]
    [InlineData(0xfffffffcu, "larger than the limit")]
    [InlineData(0x10000u, "extends past end of file")]
    public void ReadBatch_PcapNgBadBlockLength_ReportsBlockOffset(uint length, string problem)
    {
        CaptureScenario scenario = CaptureScenario.PcapNg(bigPacketBytes: 10, extraPackets: 0);
        byte[] bytes = scenario.Bytes;
        int block = scenario.PacketEnds[0];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(block + 4), length);
        CaptureFormatException e = ReadUntilError(bytes, expectedPackets: 1);
        Assert.Equal(block, e.Offset);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadBatch_PcapNgTrailerMismatchAndUnknownInterface_AreReported()
    {
        CaptureScenario scenario = CaptureScenario.PcapNg(bigPacketBytes: 10, extraPackets: 0);
        byte[] bytes = (byte[])scenario.Bytes.Clone();
        int second = scenario.PacketEnds[0];
        int secondEnd = scenario.PacketEnds[1];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(secondEnd - 4), 1234);
        CaptureFormatException e = ReadUntilError(bytes, expectedPackets: 1);
        Assert.Equal(second, e.Offset);
        Assert.Contains("trailing block length 1234 does not match", e.Message, StringComparison.Ordinal);

        bytes = (byte[])scenario.Bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(second + 8), 7);
        e = ReadUntilError(bytes, expectedPackets: 1);
        Assert.Equal(second, e.Offset);
        Assert.Contains("unknown interface id 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadBatch_PcapNgSimplePacketWithoutInterface_IsReported()
    {
        byte[] bytes = new TestPcapNgWriter().Section(false).Simple([1, 2, 3, 4], 4).ToArray();
        CaptureFormatException e = ReadUntilError(bytes, expectedPackets: 0);
        Assert.Equal(28, e.Offset);
        Assert.Contains("unknown interface id 0", e.Message, StringComparison.Ordinal);
    }

    private static CaptureFormatException ReadUntilError(byte[] bytes, int expectedPackets)
    {
        foreach (bool gzip in new[] { false, true })
        {
            string path = CaptureTestFiles.Write(gzip ? CaptureTestFiles.Gzip(bytes) : bytes);
            using CaptureFileReader reader = CaptureFile.Open(path);
            var packets = new List<TestPacket>();
            CaptureFormatException e = Assert.Throws<CaptureFormatException>(() => CaptureTestFiles.ReadInto(reader, packets));
            Assert.Equal(expectedPackets, packets.Count);
            Assert.Equal(path, e.Path);
            if (gzip)
            {
                return e;
            }
        }

        throw new InvalidOperationException("unreachable");
    }

    private static void ReadExpectingOnlyCaptureFormatException(byte[] bytes, long maxOffset)
    {
        string path = CaptureTestFiles.Write(bytes);
        try
        {
            using CaptureFileReader reader = CaptureFile.Open(path, new CaptureFileOptions { DecompressionBufferBytes = 4096 });
            var batch = new PacketBatch(4);
            for (int batches = 0; reader.ReadBatch(batch); batches++)
            {
                Assert.True(batches < 100_000, "reader does not end");
                for (int i = 0; i < batch.Count; i++)
                {
                    // Touch every byte: frames must lie inside the mapping or buffer.
                    ReadOnlySpan<byte> frame = batch.GetFrame(i);
                    int sum = 0;
                    foreach (byte b in frame)
                    {
                        sum += b;
                    }

                    Assert.True(sum >= 0 && batch.GetWireLength(i) >= frame.Length);
                }
            }
        }
        catch (CaptureFormatException e)
        {
            Assert.Equal(path, e.Path);
            Assert.InRange(e.Offset, 0, maxOffset);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
