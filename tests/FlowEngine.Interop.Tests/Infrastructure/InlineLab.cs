// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>
/// Two network namespaces joined only through the engine: ns A (10.216.X.1/24) -- veth -- [port X | engine |
/// port Y] -- veth -- ns B (10.216.X.2/24). The engine's ends stay in the root namespace without addresses.
/// Offloads (including checksum offload, whose partial checksums would be forwarded as they are) and IPv6 are
/// off on all four ends. Everything is removed on dispose.
/// </summary>
internal sealed class InlineLab : IDisposable
{
    private static int s_instances;
    private readonly List<Process> _processes = [];

    public InlineLab()
    {
        int n = Interlocked.Increment(ref s_instances);
        int id = (Environment.ProcessId % 1000) * 10 + n;
        NamespaceA = $"fe-ia-{id}";
        NamespaceB = $"fe-ib-{id}";
        InterfaceA = $"fe{id}a";
        InterfaceB = $"fe{id}b";
        EngineA = $"fe{id}x";
        EngineB = $"fe{id}y";
        int subnet = (id % 250) + 1;
        AddressA = $"10.216.{subnet}.1";
        AddressB = $"10.216.{subnet}.2";
        try
        {
            Run("ip", "netns", "add", NamespaceA);
            Run("ip", "netns", "add", NamespaceB);
            foreach ((string ns, string inner, string engine, string address) in new[] { (NamespaceA, InterfaceA, EngineA, AddressA), (NamespaceB, InterfaceB, EngineB, AddressB) })
            {
                Run("ip", "link", "add", engine, "type", "veth", "peer", "name", inner);
                Run("ip", "link", "set", inner, "netns", ns);
                Run("sysctl", "-qw", $"net.ipv6.conf.{engine}.disable_ipv6=1");
                Run("ip", "netns", "exec", ns, "sysctl", "-qw", $"net.ipv6.conf.{inner}.disable_ipv6=1");
                Run("ethtool", "-K", engine, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off");
                Run("ip", "netns", "exec", ns, "ethtool", "-K", inner, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off");
                Run("ip", "netns", "exec", ns, "ip", "addr", "add", address + "/24", "dev", inner);
                Run("ip", "link", "set", engine, "up");
                Run("ip", "netns", "exec", ns, "ip", "link", "set", inner, "up");
                Run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string NamespaceA { get; }

    public string NamespaceB { get; }

    public string InterfaceA { get; }

    public string InterfaceB { get; }

    /// <summary>The root-namespace end of A's veth: the engine's first port.</summary>
    public string EngineA { get; }

    /// <summary>The root-namespace end of B's veth: the engine's second port.</summary>
    public string EngineB { get; }

    public string AddressA { get; }

    public string AddressB { get; }

    /// <summary>Runs a command in a namespace to its end (bounded by <paramref name="timeout"/>); returns its output.</summary>
    public static string InNamespace(string ns, TimeSpan timeout, bool check, params string[] args) =>
        ProcessRunner.Run("ip", ["netns", "exec", ns, .. args], timeout, check);

    /// <summary>Starts a long-running command in a namespace; it is killed on dispose.</summary>
    public Process Start(string ns, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "netns", "exec", ns }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        Process p = Process.Start(info) ?? throw new InvalidOperationException($"{args[0]} did not start in {ns}");
        _processes.Add(p);
        return p;
    }

    public void Dispose()
    {
        foreach (Process p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }

        ProcessRunner.Run("ip", ["link", "del", EngineA], TimeSpan.FromSeconds(10), check: false);
        ProcessRunner.Run("ip", ["link", "del", EngineB], TimeSpan.FromSeconds(10), check: false);
        ProcessRunner.Run("ip", ["netns", "del", NamespaceA], TimeSpan.FromSeconds(10), check: false);
        ProcessRunner.Run("ip", ["netns", "del", NamespaceB], TimeSpan.FromSeconds(10), check: false);
    }

    private static void Run(string file, params string[] args) => ProcessRunner.Run(file, args, TimeSpan.FromSeconds(10));
}
