// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>
/// A cgroup the test creates for itself, under the cgroup this test process is in (in each hierarchy), so that it
/// nests inside whatever limits the host set. Dispose moves any process left back to the parent and removes it.
/// </summary>
internal sealed class TestCgroup : IDisposable
{
    private readonly List<string> _created = [];

    private TestCgroup(string name, IReadOnlyDictionary<string, string> directories, IReadOnlyList<string> created)
    {
        Name = name;
        Directories = directories;
        _created.AddRange(created);
    }

    /// <summary>The cgroup's name (its last path component).</summary>
    public string Name { get; }

    /// <summary>The cgroup's directory per hierarchy: <c>unified</c> for v2, else the v1 controller's name.</summary>
    public IReadOnlyDictionary<string, string> Directories { get; }

    /// <summary>A new cgroup v2 cgroup, <paramref name="relative"/> below this process's v2 cgroup (components created as needed).</summary>
    public static TestCgroup CreateV2(string relative)
    {
        string root = CgroupRoots.V2Mount;
        string dir = Path.Combine(root + SelfPath("0", ""), relative);
        return new TestCgroup(Path.GetFileName(dir), new Dictionary<string, string> { ["unified"] = dir }, MakeDirectories(dir));
    }

    /// <summary>A new cgroup v1 cgroup named <paramref name="name"/> in each of <paramref name="controllers"/>' hierarchies.</summary>
    public static TestCgroup CreateV1(string name, params string[] controllers)
    {
        var dirs = new Dictionary<string, string>();
        var created = new List<string>();
        foreach (string c in controllers)
        {
            string mount = CgroupRoots.V1Mount(c);
            string dir = Path.Combine(mount + SelfPath(null, c), name);
            dirs[c] = dir;
            created.AddRange(MakeDirectories(dir));
        }

        return new TestCgroup(name, dirs, created);
    }

    /// <summary>Moves <paramref name="pid"/> into the cgroup in every hierarchy (writes it to each <c>cgroup.procs</c>).</summary>
    public void Add(int pid)
    {
        foreach (string dir in Directories.Values)
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            string[] members = File.ReadAllLines(Path.Combine(dir, "cgroup.procs"));
            Assert.Contains(pid.ToString(CultureInfo.InvariantCulture), members);
        }
    }

    /// <summary>Writes <paramref name="value"/> to the control file <paramref name="file"/> of the hierarchy <paramref name="key"/>.</summary>
    public void Write(string key, string file, string value) => File.WriteAllText(Path.Combine(Directories[key], file), value);

    public void Dispose()
    {
        // Deepest first; a process still inside (a test that failed before killing it) goes back to the parent.
        for (int i = _created.Count - 1; i >= 0; i--)
        {
            string dir = _created[i];
            if (!Directory.Exists(dir))
            {
                continue;
            }

            string parentProcs = Path.Combine(Path.GetDirectoryName(dir)!, "cgroup.procs");
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    foreach (string pid in File.ReadAllLines(Path.Combine(dir, "cgroup.procs")))
                    {
                        TryWrite(parentProcs, pid);
                    }

                    Directory.Delete(dir);
                    break;
                }
                catch (IOException) when (deadline.ElapsedMilliseconds < 5000)
                {
                    // A killed process leaves the cgroup when it is reaped, a moment after it exits.
                    Thread.Sleep(20);
                }
            }
        }
    }

    private static void TryWrite(string file, string text)
    {
        try
        {
            File.WriteAllText(file, text);
        }
        catch (IOException)
        {
            // The process exited meanwhile.
        }
    }

    /// <summary>Creates <paramref name="dir"/> and the missing directories above it; returns those it created, top first.</summary>
    private static List<string> MakeDirectories(string dir)
    {
        var missing = new List<string>();
        for (string? d = dir; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d))
        {
            missing.Insert(0, d);
        }

        foreach (string d in missing)
        {
            Directory.CreateDirectory(d);
        }

        Assert.True(File.Exists(Path.Combine(dir, "cgroup.procs")), $"{dir} is not a cgroup");
        return missing;
    }

    /// <summary>This process's cgroup path in a hierarchy, from /proc/self/cgroup (<c>ID:controllers:path</c>).</summary>
    private static string SelfPath(string? hierarchyId, string controller)
    {
        foreach (string line in File.ReadAllLines("/proc/self/cgroup"))
        {
            string[] f = line.Split(':', 3);
            if (f.Length == 3 && (hierarchyId is not null ? f[0] == hierarchyId && f[1].Length == 0 : f[1].Split(',').Contains(controller)))
            {
                return f[2] == "/" ? string.Empty : f[2];
            }
        }

        Assert.Fail($"/proc/self/cgroup has no line for {(hierarchyId is not null ? "cgroup v2" : controller)}");
        return string.Empty;
    }
}

/// <summary>Where this machine mounts the hierarchies the tests use; a missing one fails the test with what is missing.</summary>
internal static class CgroupRoots
{
    private static readonly Lazy<FlowEngine.Interop.VmState.CgroupMounts> s_mounts = new(() => FlowEngine.Interop.VmState.CgroupMounts.Read());

    public static FlowEngine.Interop.VmState.CgroupMounts Mounts => s_mounts.Value;

    public static string V2Mount => Mounts.V2Root ?? throw new InvalidOperationException("no cgroup2 file system is mounted (mount | grep cgroup2)");

    public static string V1Mount(string controller)
        => Mounts.V1Root(controller) ?? throw new InvalidOperationException($"the v1 {controller} controller is not mounted (mount | grep cgroup)");
}
