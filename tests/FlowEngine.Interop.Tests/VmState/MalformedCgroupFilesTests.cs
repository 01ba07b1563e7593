// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text;
using FlowEngine.Context;
using FlowEngine.Interop.Tests.Infrastructure;
using FlowEngine.Interop.VmState;

namespace FlowEngine.Interop.Tests.VmState;

/// <summary>
/// The providers over directories laid out like cgroups but holding damaged files: each bad file is counted and its
/// field left invalid, the good ones still read, and nothing is thrown to the sampler or its host.
/// </summary>
public class MalformedCgroupFilesTests
{
    [Fact]
    public void V2_MalformedFiles_AreCountedAndTheRestIsRead()
    {
        string dir = Directory.CreateDirectory(TestPaths.NewTempPath(".cg")).FullName;
        File.WriteAllText(Path.Combine(dir, "cpu.stat"), "usage_usec 1500000\nuser_usec 1000000\n");
        File.WriteAllText(Path.Combine(dir, "memory.current"), "lots\n");
        File.WriteAllText(Path.Combine(dir, "io.stat"), "254:0 rbytes=1 wbytes=oops rios=1\n");
        using var provider = new CgroupV2StateProvider(new Dictionary<string, string> { ["vm"] = dir });
        var store = new VmStateStore();
        using var sampler = new VmStateSampler(provider, store);

        Assert.Equal(1, sampler.SampleOnce());
        Assert.True(store.TryGetSamples(0, out _, out _, out VmResourceSample s));
        Assert.Equal(VmResourceFields.Cpu, s.Valid);
        Assert.Equal(1_500_000_000, s.CpuTimeNs);
        Assert.Equal(2, provider.Statistics.MalformedFiles);

        // Every file damaged: the read fails, the sampler counts it, nothing throws.
        File.WriteAllBytes(Path.Combine(dir, "cpu.stat"), [0xff, 0x00, 0x13]);
        Assert.Equal(0, sampler.SampleOnce());
        Assert.Equal(1, sampler.ReadFailures);
        Assert.Equal(5, provider.Statistics.MalformedFiles);
        Assert.Equal(0, sampler.ProviderExceptions);
    }

    [Fact]
    public void V1_MissingAndMalformed_AndAFileLargerThanTheBuffer()
    {
        string cpu = Directory.CreateDirectory(TestPaths.NewTempPath(".cpuacct")).FullName;
        string blkio = Directory.CreateDirectory(TestPaths.NewTempPath(".blkio")).FullName;
        string memory = Directory.CreateDirectory(TestPaths.NewTempPath(".memory")).FullName; // No memory.usage_in_bytes.
        File.WriteAllText(Path.Combine(cpu, "cpuacct.usage"), "123456789\n");
        var io = new StringBuilder();
        long expected = 0;
        for (int d = 0; d < 1000; d++)
        {
            // 1000 devices: about 40 KB, more than the provider's first buffer.
            io.Append(System.Globalization.CultureInfo.InvariantCulture, $"8:{d} Read {d}\n8:{d} Write {2 * d}\n8:{d} Total {3 * d}\n");
            expected += d;
        }

        io.Append("Total 0\n");
        File.WriteAllText(Path.Combine(blkio, "blkio.throttle.io_service_bytes_recursive"), io.ToString());
        using var provider = new CgroupV1StateProvider(new Dictionary<string, CgroupV1Paths> { ["vm"] = new(cpu, memory, blkio) });
        Assert.Equal(1, provider.Statistics.UnavailableFiles);
        Assert.True(provider.TryRead(0, 1, out VmResourceSample s));
        Assert.Equal(VmResourceFields.Cpu | VmResourceFields.DiskRead | VmResourceFields.DiskWrite, s.Valid);
        Assert.Equal(123456789, s.CpuTimeNs);
        Assert.Equal(expected, s.DiskReadBytes);
        Assert.Equal(2 * expected, s.DiskWriteBytes);

        File.WriteAllText(Path.Combine(blkio, "blkio.throttle.io_service_bytes_recursive"), "8:0 Read\n");
        Assert.True(provider.TryRead(0, 2, out s));
        Assert.Equal(VmResourceFields.Cpu, s.Valid);
        Assert.Equal(1, provider.Statistics.MalformedFiles);
    }

    [Fact]
    public void Proc_MalformedStat_IsCounted()
    {
        string proc = Directory.CreateDirectory(TestPaths.NewTempPath(".proc")).FullName;
        string pid = Directory.CreateDirectory(Path.Combine(proc, "4242")).FullName;
        File.WriteAllBytes(Path.Combine(pid, "cmdline"), Encoding.UTF8.GetBytes("/usr/bin/qemu-system-x86_64\0-name\0guest=fake,debug-threads=on\0"));
        File.WriteAllText(Path.Combine(pid, "stat"), "4242 (qemu-system-x86) S 1 2 3\n");
        File.WriteAllText(Path.Combine(pid, "status"), "Name:\tqemu\nVmRSS:\t  2048 kB\n");
        File.WriteAllText(Path.Combine(pid, "io"), "read_bytes: 7\nwrite_bytes: 9\n");
        Directory.CreateDirectory(Path.Combine(proc, "self"));
        using var provider = new QemuProcessStateProvider(proc);
        Assert.Equal(["fake"], provider.VmNames);
        Assert.True(provider.TryRead(0, 1, out VmResourceSample s));
        Assert.Equal(VmResourceFields.Memory | VmResourceFields.DiskRead | VmResourceFields.DiskWrite, s.Valid);
        Assert.Equal(2048 * 1024, s.MemoryBytes);
        Assert.Equal((7, 9), (s.DiskReadBytes, s.DiskWriteBytes));
        Assert.Equal(1, provider.Statistics.MalformedFiles);
    }
}
