// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Interop.VmState;

namespace FlowEngine.Interop.Tests.VmState;

public class LibvirtCgroupsTests
{
    [Theory]
    [InlineData(@"machine-qemu\x2d1\x2dweb1.scope", "web1")]
    [InlineData(@"machine-qemu\x2d12\x2dvm\x2dweb\x2d1.scope", "vm-web-1")]
    [InlineData("qemu-3-db-1.libvirt-qemu", "db-1")]
    [InlineData("db-1.libvirt-qemu", "db-1")]
    public void ScopeName(string directory, string name)
    {
        Assert.True(LibvirtCgroups.TryParseScopeName(directory, out string? n));
        Assert.Equal(name, n);
    }

    [Theory]
    [InlineData(@"machine-lxc\x2d1\x2dct.scope")]
    [InlineData(@"machine-qemu\x2dweb.scope")]
    [InlineData("machine-.scope")]
    [InlineData("user.slice")]
    [InlineData("libvirt")]
    public void NotAScope(string directory) => Assert.False(LibvirtCgroups.TryParseScopeName(directory, out _));

    [Fact]
    public void Mounts_HybridHost()
    {
        CgroupMounts m = CgroupMounts.Parse(
            "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
            + "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0\n"
            + "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
            + "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0\n"
            + "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n");
        Assert.Equal("/sys/fs/cgroup/unified", m.V2Root);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", m.V1Root("cpuacct"));
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", m.V1Root("cpu"));
        Assert.Equal("/sys/fs/cgroup/memory", m.V1Root("memory"));
        Assert.Null(m.V1Root("blkio"));
        Assert.Equal(3, m.V1Controllers.Count);
    }
}
