// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text;
using FlowEngine.Context;

namespace FlowEngine.Tests.Context;

/// <summary>The kernel files' formats, as Linux 6.18 writes them (copied from this machine), and damaged versions.</summary>
public class VmStatParsersTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void CgroupV2CpuStat()
    {
        Assert.True(VmStatParsers.TryParseCgroupV2CpuStat(B("usage_usec 289253\nuser_usec 289253\nsystem_usec 0\nnice_usec 0\n"), out long ns));
        Assert.Equal(289_253_000, ns);
        Assert.True(VmStatParsers.TryParseCgroupV2CpuStat(B("user_usec 1\nusage_usec 7\n"), out ns));
        Assert.Equal(7000, ns);
    }

    [Theory]
    [InlineData("")]
    [InlineData("user_usec 1\n")]
    [InlineData("usage_usec\n")]
    [InlineData("usage_usec x\n")]
    [InlineData("usage_usec -5\n")]
    [InlineData("usage_usecs 5\n")]
    [InlineData("usage_usec 99999999999999999999\n")]
    public void CgroupV2CpuStat_Malformed(string text) => Assert.False(VmStatParsers.TryParseCgroupV2CpuStat(B(text), out _));

    [Theory]
    [InlineData("123456\n", 123456L)]
    [InlineData("0\n", 0L)]
    [InlineData("9223372036854771712", 9223372036854771712L)]
    public void SingleValue(string text, long value)
    {
        Assert.True(VmStatParsers.TryParseSingleValue(B(text), out long v));
        Assert.Equal(value, v);
    }

    [Theory]
    [InlineData("")]
    [InlineData("max\n")]
    [InlineData("12 34\n")]
    [InlineData("-1\n")]
    [InlineData("12abc\n")]
    public void SingleValue_Malformed(string text) => Assert.False(VmStatParsers.TryParseSingleValue(B(text), out _));

    [Fact]
    public void CgroupV2IoStat_SumsDevices()
    {
        string text = "254:0 rbytes=4096 wbytes=20971520 rios=1 wios=20 dbytes=0 dios=0\n253:0 rbytes=100 wbytes=5 rios=1 wios=1 dbytes=0 dios=0\n";
        Assert.True(VmStatParsers.TryParseCgroupV2IoStat(B(text), out long r, out long w));
        Assert.Equal(4196, r);
        Assert.Equal(20971525, w);
        Assert.True(VmStatParsers.TryParseCgroupV2IoStat([], out r, out w)); // No I/O yet: an empty file.
        Assert.Equal((0, 0), (r, w));
    }

    [Theory]
    [InlineData("254:0 rbytes=1 rios=1\n")]
    [InlineData("254:0 rbytes=x wbytes=1\n")]
    [InlineData("rbytes=1 wbytes=1\n")]
    [InlineData("254:0 rbytes=1 wbytes=-1\n")]
    public void CgroupV2IoStat_Malformed(string text) => Assert.False(VmStatParsers.TryParseCgroupV2IoStat(B(text), out _, out _));

    [Fact]
    public void BlkioServiceBytes_SumsReadAndWriteOverDevices()
    {
        string text = "254:0 Read 4096\n254:0 Write 20971520\n254:0 Sync 20975616\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 20975616\n"
            + "253:0 Read 10\n253:0 Write 1\n253:0 Total 11\nTotal 20975627\n";
        Assert.True(VmStatParsers.TryParseBlkioServiceBytes(B(text), out long r, out long w));
        Assert.Equal(4106, r);
        Assert.Equal(20971521, w);
        Assert.True(VmStatParsers.TryParseBlkioServiceBytes(B("Total 0\n"), out r, out w)); // A cgroup with no I/O.
        Assert.Equal((0, 0), (r, w));
    }

    [Theory]
    [InlineData("")]
    [InlineData("254:0 Read 1\n")]
    [InlineData("254:0 Read x\nTotal 1\n")]
    [InlineData("254:0 Read\nTotal 1\n")]
    [InlineData("Read 5 5\nTotal 1\n")]
    [InlineData("Total x\n")]
    public void BlkioServiceBytes_Malformed(string text) => Assert.False(VmStatParsers.TryParseBlkioServiceBytes(B(text), out _, out _));

    [Fact]
    public void ProcStat_UtimePlusStime_CommWithSpacesAndParentheses()
    {
        string stat = "4242 (qemu (x) y) R 1 4242 4242 0 -1 4194304 1000 0 0 0 1234 56 0 0 20 0 5 0 100 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        Assert.True(VmStatParsers.TryParseProcStat(B(stat), out long ticks));
        Assert.Equal(1290, ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 qemu R 1 2 3")]
    [InlineData("4242 (qemu) R 1 4242 4242 0 -1 4194304 1000 0 0 0 1234\n")]
    [InlineData("4242 (qemu) R 1 4242 4242 0 -1 4194304 1000 0 0 0 12x4 56 0\n")]
    public void ProcStat_Malformed(string text) => Assert.False(VmStatParsers.TryParseProcStat(B(text), out _));

    [Fact]
    public void ProcStatusRss()
    {
        string status = "Name:\tqemu-system-x86\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t  300000 kB\nVmRSS:\t  215040 kB\nRssAnon:\t  200000 kB\n";
        Assert.True(VmStatParsers.TryParseProcStatusRss(B(status), out long rss));
        Assert.Equal(215040L * 1024, rss);
    }

    [Theory]
    [InlineData("Name:\tkthreadd\nState:\tS\n")]
    [InlineData("VmRSS:\t  abc kB\n")]
    [InlineData("VmRSS:\t  100 MB\n")]
    [InlineData("VmRSS:\n")]
    public void ProcStatusRss_Malformed(string text) => Assert.False(VmStatParsers.TryParseProcStatusRss(B(text), out _));

    [Fact]
    public void ProcIo()
    {
        string io = "rchar: 1000\nwchar: 2000\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 67108864\ncancelled_write_bytes: 0\n";
        Assert.True(VmStatParsers.TryParseProcIo(B(io), out long r, out long w));
        Assert.Equal(4096, r);
        Assert.Equal(67108864, w);
        Assert.False(VmStatParsers.TryParseProcIo(B("rchar: 1\nread_bytes: 1\n"), out _, out _));
        Assert.False(VmStatParsers.TryParseProcIo(B("read_bytes: x\nwrite_bytes: 1\n"), out _, out _));
    }

    [Theory]
    [InlineData("/usr/bin/qemu-system-x86_64\0-name\0guest=web1,debug-threads=on\0-S\0", "web1")]
    [InlineData("qemu-kvm\0-m\0512\0-name\0db-2\0", "db-2")]
    [InlineData("qemu-kvm\0-name\0db-2,process=qemu:db\0", "db-2")]
    [InlineData("qemu-kvm\0-name\0debug-threads=on,guest=a,,b\0", "a,b")]
    [InlineData("qemu-kvm\0--name\0guest=x\0", "x")]
    public void QemuName(string cmdline, string name)
    {
        Assert.True(VmStatParsers.TryParseQemuName(B(cmdline), out string? n));
        Assert.Equal(name, n);
    }

    [Theory]
    [InlineData("qemu-kvm\0-m\0512\0")]
    [InlineData("qemu-kvm\0-name\0")]
    [InlineData("qemu-kvm\0-name\0\0")]
    [InlineData("qemu-kvm\0-name\0guest=\0")]
    [InlineData("qemu-kvm\0-name\0process=x,debug-threads=on\0")]
    public void QemuName_None(string cmdline) => Assert.False(VmStatParsers.TryParseQemuName(B(cmdline), out _));

    /// <summary>Every prefix of each valid file either parses or returns false; none throws or reads past the end.</summary>
    [Fact]
    public void TruncatedFiles_NeverThrow()
    {
        string[] files =
        [
            "usage_usec 289253\nuser_usec 289253\n", "254:0 rbytes=4096 wbytes=20971520 rios=1 wios=20 dbytes=0 dios=0\n",
            "254:0 Read 4096\n254:0 Write 20971520\n254:0 Total 20975616\nTotal 20975616\n",
            "4242 (qemu) R 1 4242 4242 0 -1 4194304 1000 0 0 0 1234 56 0 0 20 0 5 0\n", "VmRSS:\t  215040 kB\n",
            "read_bytes: 4096\nwrite_bytes: 67108864\n", "qemu\0-name\0guest=web1,debug-threads=on\0",
        ];
        foreach (string f in files)
        {
            byte[] bytes = B(f);
            for (int n = 0; n <= bytes.Length; n++)
            {
                ReadOnlySpan<byte> cut = bytes.AsSpan(0, n);
                int parsed = (VmStatParsers.TryParseCgroupV2CpuStat(cut, out _) ? 1 : 0)
                    + (VmStatParsers.TryParseSingleValue(cut, out _) ? 1 : 0)
                    + (VmStatParsers.TryParseCgroupV2IoStat(cut, out _, out _) ? 1 : 0)
                    + (VmStatParsers.TryParseBlkioServiceBytes(cut, out _, out _) ? 1 : 0)
                    + (VmStatParsers.TryParseProcStat(cut, out _) ? 1 : 0)
                    + (VmStatParsers.TryParseProcStatusRss(cut, out _) ? 1 : 0)
                    + (VmStatParsers.TryParseProcIo(cut, out _, out _) ? 1 : 0)
                    + (VmStatParsers.TryParseQemuName(cut, out _) ? 1 : 0);
                if (n == bytes.Length)
                {
                    Assert.True(parsed >= 1, $"no parser reads the whole file {f}");
                }
            }
        }
    }
}
