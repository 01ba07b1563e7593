// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>The block device under a directory, from /proc/self/mountinfo: for disk I/O that reaches a real disk.</summary>
internal static class DiskDevice
{
    /// <summary>
    /// The file system type and the whole disk (<c>MAJ:MIN</c>) under <paramref name="directory"/>; fails the test when
    /// the directory is on a file system without a block device (tmpfs, overlay).
    /// </summary>
    public static (string FsType, string Disk) Of(string directory)
    {
        string full = Path.GetFullPath(directory);
        string? bestMount = null, bestDevice = null, bestType = null;
        foreach (string line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
            string[] f = line.Split(' ');
            int dash = Array.IndexOf(f, "-");
            if (f.Length < 7 || dash < 0 || dash + 1 >= f.Length)
            {
                continue;
            }

            string mount = f[4].Replace("\\040", " ", StringComparison.Ordinal);
            bool under = full == mount || full.StartsWith(mount.TrimEnd('/') + "/", StringComparison.Ordinal);
            if (under && (bestMount is null || mount.Length >= bestMount.Length))
            {
                bestMount = mount;
                bestDevice = f[2];
                bestType = f[dash + 1];
            }
        }

        Assert.NotNull(bestMount);
        Assert.True(bestType is not ("tmpfs" or "ramfs" or "overlay" or "devtmpfs"), $"{directory} is on {bestType} ({bestMount}), not a disk");
        string sys = $"/sys/dev/block/{bestDevice}";
        Assert.True(Directory.Exists(sys), $"{directory} is on {bestType} device {bestDevice}, which is not a block device");
        if (File.Exists(Path.Combine(sys, "partition")))
        {
            // blk-throttle rules take whole disks: the partition's parent directory is the disk.
            string disk = Path.GetDirectoryName(new DirectoryInfo(sys).ResolveLinkTarget(true)!.FullName)!;
            return (bestType!, File.ReadAllText(Path.Combine(disk, "dev")).Trim());
        }

        return (bestType!, bestDevice!);
    }
}
