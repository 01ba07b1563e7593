// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Context;

namespace FlowEngine.Tests.Context;

public class VmStateTimelineTests
{
    private const string H = VmStateTimelineWriter.Header;

    [Fact]
    public void WriterThenTimeline_RoundTripsEverySampleAndUnknownField()
    {
        var text = new StringWriter();
        using (var w = new VmStateTimelineWriter(text))
        {
            w.Write("web1", new VmResourceSample(1_000_000_000, VmResourceFields.All, 10, 20, 30, 40));
            w.Write("db1", new VmResourceSample(1_000_000_001, VmResourceFields.Cpu | VmResourceFields.Memory, 11, 21, 0, 0));
            w.Write("web1", new VmResourceSample(2_000_000_000, VmResourceFields.All, 510, 25, 130, 1040));
            Assert.Equal(3, w.Samples);
        }

        string csv = text.ToString();
        Assert.Equal($"{H}\n1000000000,web1,10,20,30,40\n1000000001,db1,11,21,,\n2000000000,web1,510,25,130,1040\n", csv);

        VmStateTimeline t = VmStateTimeline.Parse(new StringReader(csv), "mem.csv");
        Assert.Equal(["db1", "web1"], t.VmNames);
        Assert.Equal(3, t.SampleCount);
        Assert.Equal(new VmResourceSample(1_000_000_001, VmResourceFields.Cpu | VmResourceFields.Memory, 11, 21, 0, 0), t.SamplesOf("db1")[0]);
        Assert.Equal(2, t.SamplesOf("web1").Length);
    }

    [Fact]
    public void TryGetState_UsesLastSampleAtOrBeforeTimeAndTheOneBefore()
    {
        VmStateTimeline t = VmStateTimeline.Parse(new StringReader(
            $"{H}\n1000000000,a,0,100,0,0\n2000000000,a,1000000000,200,0,4000\n3000000000,a,1500000000,300,0,4000\n"));
        Assert.False(t.TryGetState("a", 999_999_999, out _));               // Before the first sample.
        Assert.True(t.TryGetState("a", 1_000_000_000, out VmResourceState s0));
        Assert.Equal(VmResourceFields.Memory, s0.Valid);
        Assert.Equal(100, s0.MemoryBytes);

        Assert.True(t.TryGetState("a", 2_500_000_000, out VmResourceState s1)); // Between the 2nd and 3rd: rates of 1st..2nd.
        Assert.Equal(1.0, s1.CpuCores, 9);
        Assert.Equal(4000.0, s1.DiskWriteBytesPerSecond, 9);
        Assert.Equal(200, s1.MemoryBytes);
        Assert.Equal(500_000_000, s1.SampleAgeNs);

        Assert.True(t.TryGetState("a", 9_000_000_000, out VmResourceState s2)); // After the last.
        Assert.Equal(0.5, s2.CpuCores, 9);
        Assert.Equal(0.0, s2.DiskWriteBytesPerSecond, 9);
        Assert.Equal(6_000_000_000, s2.SampleAgeNs);
        Assert.False(t.TryGetState("b", 2_000_000_000, out _));
    }

    [Fact]
    public void UnsortedLines_AreSortedPerVm()
    {
        VmStateTimeline t = VmStateTimeline.Parse(new StringReader(
            $"{H}\n3000000000,a,3000000000,,,\n1000000000,a,1000000000,,,\n2000000000,b,5,,,\n2000000000,a,2000000000,,,\n"));
        Assert.Equal([1_000_000_000L, 2_000_000_000, 3_000_000_000], t.SamplesOf("a").ToArray().Select(s => s.TimeNs));
        Assert.True(t.TryGetState("a", 2_100_000_000, out VmResourceState s));
        Assert.Equal(1.0, s.CpuCores, 9);
    }

    [Theory]
    [InlineData("", 1, "empty file")]
    [InlineData("time,vm\n", 1, "expected the header")]
    [InlineData(H + "\n1,a,1,2,3\n", 2, "expected 6 fields")]
    [InlineData(H + "\n1,a,1,2,3,4,5\n", 2, "expected 6 fields")]
    [InlineData(H + "\nx,a,1,2,3,4\n", 2, "time_ns is not an integer")]
    [InlineData(H + "\n1,,1,2,3,4\n", 2, "the vm field is empty")]
    [InlineData(H + "\n1,a,1,2,3,4\n2,a,-1,2,3,4\n", 3, "cpu_ns is not a non-negative integer")]
    [InlineData(H + "\n1,a,1,2x,3,4\n", 2, "memory_bytes is not")]
    [InlineData(H + "\n1,a,1,2,3.5,4\n", 2, "disk_read_bytes is not")]
    [InlineData(H + "\n1,a,1,2,3,99999999999999999999\n", 2, "disk_write_bytes is not")]
    [InlineData(H + "\n5,a,1,2,3,4\n7,b,1,2,3,4\n5,a,1,2,3,4\n", 4, "two samples at time_ns 5 (lines 2 and 4)")]
    public void Corrupt_GivesFormatErrorNamingFileAndLine(string text, int line, string message)
    {
        var e = Assert.Throws<VmStateFormatException>(() => VmStateTimeline.Parse(new StringReader(text), "lab/vm-state.csv"));
        Assert.Equal(line, e.Line);
        Assert.Equal("lab/vm-state.csv", e.Source);
        Assert.StartsWith($"lab/vm-state.csv:{line}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BinaryGarbageFile_GivesFormatError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fe-timeline-{Guid.NewGuid():N}.csv");
        try
        {
            var rng = new Random(7);
            byte[] junk = new byte[4096];
            rng.NextBytes(junk);
            File.WriteAllBytes(path, junk);
            var e = Assert.Throws<VmStateFormatException>(() => VmStateTimeline.Load(path));
            Assert.StartsWith(path + ":1: ", e.Message, StringComparison.Ordinal);

            File.WriteAllText(path, H + "\n1,a,1,2,3,4\n2,a,1,2,3,4");
            Assert.Equal(2, VmStateTimeline.Load(path).SampleCount); // A last line without a line break is read.
        }
        finally
        {
            File.Delete(path);
        }

        var missing = Assert.Throws<VmStateFormatException>(() => VmStateTimeline.Load(path));
        Assert.Contains(path, missing.Message, StringComparison.Ordinal);
        Assert.Contains("cannot read", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a,b")]
    [InlineData("a\"b")]
    [InlineData("a\nb")]
    public void Writer_RefusesNamesCsvCannotHold(string name)
    {
        using var w = new VmStateTimelineWriter(new StringWriter());
        Assert.Throws<ArgumentException>(() => w.Write(name, new VmResourceSample(1, VmResourceFields.Cpu, 1, 0, 0, 0)));
    }

    [Fact]
    public void Writer_DoesNotAllocatePerSample()
    {
        using var w = new VmStateTimelineWriter(new StreamWriter(Stream.Null));
        var sample = new VmResourceSample(1_765_000_000_123_456_789, VmResourceFields.All, long.MaxValue, 1, 2, 3);
        for (int i = 0; i < 1000; i++)
        {
            w.Write("web1", in sample); // The StreamWriter allocates its byte buffer at its first flush.
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            w.Write("web1", in sample);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
