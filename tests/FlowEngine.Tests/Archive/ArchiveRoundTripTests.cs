// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Archive;
using FlowEngine.ArchiveHost;
using FlowEngine.Capture;
using FlowEngine.Flows;

namespace FlowEngine.Tests.Archive;

public class ArchiveRoundTripTests
{
    [Fact]
    public void Crc32C_CheckValue_MatchesCastagnoliStandard()
    {
        // RFC 3720 appendix B.4 / the CRC catalogue's check value for CRC-32C.
        Assert.Equal(0xE3069283u, ArchiveFormat.Crc32C("123456789"u8));
        Assert.Equal(0x8A9136AAu, ArchiveFormat.Crc32C(new byte[32]));
    }

    [Fact]
    public void LabCapture_EveryRecordAndContext_ComesBackBitExact()
    {
        string dir = ArchiveTestData.TempDirectory();
        try
        {
            List<ExpectedFlow> expected = ArchiveTestData.WriteLab(dir, new ArchiveWriterOptions());
            var records = new List<FlowRecord>();
            using (CaptureFileReader capture = CaptureFile.Open(ArchiveTestData.LabCapture))
            {
                new FlowPipeline(FlowSink.ToList(records)).Run(capture);
            }

            // The oracle holds every record the pipeline emits, with metadata of several applications.
            Assert.Equal(records.Count, expected.Count);
            Assert.Contains(expected, e => e.App == AppProtocol.Dns);
            Assert.Contains(expected, e => e.App == AppProtocol.Http && e.Metadata.Contains("2=", StringComparison.Ordinal));
            Assert.Contains(expected, e => e.SourceVm is not null);
            var reader = new ArchiveReader(dir);
            List<ExpectedFlow> actual = reader.Read().Select(ExpectedFlow.Of).ToList();
            ArchiveTestData.AssertSame(expected, actual, "lab capture");
            Assert.Empty(reader.Issues);
            for (int i = 0; i < records.Count; i++)
            {
                Assert.True(ArchiveTestData.SameBits(records[i], actual[i].Record), $"record {i} differs from a pipeline run without extensions");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Append_ArbitraryBytesInEveryField_ComeBackBitExact()
    {
        string dir = ArchiveTestData.TempDirectory();
        try
        {
            const int Count = 1000;
            using (var writer = new ArchiveWriter(dir, new ArchiveWriterOptions { RecordsPerFrame = 100 }))
            {
                for (int i = 0; i < Count; i++)
                {
                    writer.Append(HostRecords.Record(i), HostRecords.Context(i));
                }
            }

            var reader = new ArchiveReader(dir);
            var flows = reader.Read().ToList();
            Assert.Equal(Count, flows.Count);
            for (int i = 0; i < Count; i++)
            {
                Assert.True(ArchiveTestData.SameBits(HostRecords.Record(i), flows[i].Record), $"record {i}");
                FlowContext c = HostRecords.Context(i);
                Assert.Equal((c.SourceVm, c.DestinationVm, c.Tenant, c.DestinationOutside, c.Score, c.IsAlert, c.AlertClass),
                    (flows[i].SourceVm, flows[i].DestinationVm, flows[i].Tenant, flows[i].DestinationOutside, flows[i].Score, flows[i].IsAlert, flows[i].AlertClass));
            }

            Assert.Equal(10, reader.FrameCount);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Reappend_ArchivedFlows_CopyIsIdentical()
    {
        string a = ArchiveTestData.TempDirectory(), b = ArchiveTestData.TempDirectory();
        try
        {
            List<ExpectedFlow> expected = ArchiveTestData.WriteLab(a, new ArchiveWriterOptions { RecordsPerFrame = 128 });
            using (var writer = new ArchiveWriter(b))
            {
                foreach (ArchivedFlow f in new ArchiveReader(a).Read())
                {
                    writer.Append(f.Record, f.ToContext());
                }
            }

            ArchiveTestData.AssertSame(expected, new ArchiveReader(b).Read().Select(ExpectedFlow.Of).ToList(), "copy");
        }
        finally
        {
            Directory.Delete(a, recursive: true);
            Directory.Delete(b, recursive: true);
        }
    }

    [Fact]
    public void SecondWriter_SameDirectory_IsRefused()
    {
        string dir = ArchiveTestData.TempDirectory();
        try
        {
            using var first = new ArchiveWriter(dir);
            IOException e = Assert.Throws<IOException>(() => new ArchiveWriter(dir));
            Assert.Contains("another writer", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Append_AfterFirstFrame_AllocatesNothing()
    {
        string dir = ArchiveTestData.TempDirectory();
        try
        {
            // Lab flows with their context, as the sensor archives them: read once, appended again and again.
            string lab = Path.Combine(dir, "lab");
            ArchiveTestData.WriteLab(lab, new ArchiveWriterOptions());
            ArchivedFlow[] flows = new ArchiveReader(lab).Read().ToArray();
            FlowRecord[] records = flows.Select(f => f.Record).ToArray();
            using var writer = new ArchiveWriter(Path.Combine(dir, "append"), new ArchiveWriterOptions { Durable = false });
            // Warm-up: one pass over the lab flows sizes every buffer and set (the string tables of the busiest frame).
            for (int i = 0; i < flows.Length + 300; i++)
            {
                FlowContext c = flows[i % flows.Length].ToContext();
                writer.Append(in records[i % records.Length], in c);
            }

            // Measured on a thread of its own: nothing else runs there between the two readings.
            long allocated = -1;
            var thread = new Thread(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 8192; i++)
                {
                    FlowContext c = flows[i % flows.Length].ToContext();
                    writer.Append(in records[i % records.Length], in c);
                }

                writer.OnFlows(records.AsSpan(0, 128));
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            thread.Start();
            Assert.True(thread.Join(30_000), "8192 appends took over 30 s");
            Assert.True(writer.FramesWritten >= 32, $"{writer.FramesWritten} frames");
            Assert.Equal(0, allocated);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
