// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Text.Json;
using FlowEngine.Interop.Tests.Infrastructure;

namespace FlowEngine.Interop.Tests.Mitigation;

/// <summary>
/// Three network namespaces: a 'VM' (10.217.X.2/24) -- veth -- a router (10.217.X.1 and 10.218.X.1, forwarding)
/// -- veth -- a peer (10.218.X.2/24, and 10.218.X.3 as an allowlisted 'resolver'). The handlers act in the router,
/// as they would on a hypervisor. A UDP receiver in the peer counts datagrams per port. Everything (processes,
/// links, namespaces) is removed on dispose, also when the test failed.
/// </summary>
internal sealed class MitigationLab : IDisposable
{
    private const string Script = """
        import json, select, socket, sys, time
        mode = sys.argv[1]
        if mode == 'recv':
            # recv ADDRS PORTS MAX_SECONDS: count datagrams per (addr, port) until a datagram to port 7999 or the time limit.
            addrs, ports, limit = sys.argv[2].split(','), [int(p) for p in sys.argv[3].split(',')], float(sys.argv[4])
            socks = {}
            for a in addrs:
                for p in ports + [7999]:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind((a, p))
                    socks[s] = (a, p)
            counts = {f'{a}:{p}': 0 for a in addrs for p in ports}
            print('ready', flush=True)
            end = time.time() + limit
            done = False
            while not done and time.time() < end:
                r, _, _ = select.select(list(socks), [], [], max(0.0, end - time.time()))
                for s in r:
                    s.recv(4096)
                    a, p = socks[s]
                    if p == 7999:
                        done = True
                    else:
                        counts[f'{a}:{p}'] += 1
            print(json.dumps(counts), flush=True)
        else:
            # send DST SPORT DPORT COUNT: COUNT datagrams of 100 bytes, 2 ms apart, from a fixed source port.
            dst, sport, dport, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(('0.0.0.0', sport))
            sent = 0
            for i in range(n):
                try:
                    s.sendto(b'x' * 100, (dst, dport))
                    sent += 1
                except OSError:
                    pass
                time.sleep(0.002)
            print(sent, flush=True)
        """;

    private static int s_instances;
    private readonly List<Process> _processes = [];
    private readonly string _script;

    public MitigationLab()
    {
        int n = Interlocked.Increment(ref s_instances);
        int id = (Environment.ProcessId % 1000) * 10 + n;
        Vm = $"fe-mv-{id}";
        Router = $"fe-mr-{id}";
        Peer = $"fe-mp-{id}";
        RouterVmSide = $"fe{id}r";
        RouterPeerSide = $"fe{id}s";
        int subnet = (id % 250) + 1;
        VmAddress = $"10.217.{subnet}.2";
        Gateway = $"10.217.{subnet}.1";
        RouterPeerAddress = $"10.218.{subnet}.1";
        PeerAddress = $"10.218.{subnet}.2";
        ResolverAddress = $"10.218.{subnet}.3";
        _script = TestPaths.NewTempPath(".py");
        File.WriteAllText(_script, Script);
        try
        {
            foreach (string ns in new[] { Vm, Router, Peer })
            {
                Run("ip", "netns", "add", ns);
                InNs(ns, "ip", "link", "set", "lo", "up");
            }

            Run("ip", "link", "add", $"fe{id}v", "netns", Vm, "type", "veth", "peer", "name", RouterVmSide, "netns", Router);
            Run("ip", "link", "add", $"fe{id}p", "netns", Peer, "type", "veth", "peer", "name", RouterPeerSide, "netns", Router);
            InNs(Vm, "ip", "addr", "add", VmAddress + "/24", "dev", $"fe{id}v");
            InNs(Router, "ip", "addr", "add", Gateway + "/24", "dev", RouterVmSide);
            InNs(Router, "ip", "addr", "add", RouterPeerAddress + "/24", "dev", RouterPeerSide);
            InNs(Peer, "ip", "addr", "add", PeerAddress + "/24", "dev", $"fe{id}p");
            InNs(Peer, "ip", "addr", "add", ResolverAddress + "/24", "dev", $"fe{id}p");
            foreach ((string ns, string dev) in new[] { (Vm, $"fe{id}v"), (Router, RouterVmSide), (Router, RouterPeerSide), (Peer, $"fe{id}p") })
            {
                InNs(ns, "sysctl", "-qw", $"net.ipv6.conf.{dev}.disable_ipv6=1");
                InNs(ns, "ip", "link", "set", dev, "up");
            }

            InNs(Router, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            InNs(Vm, "ip", "route", "add", "default", "via", Gateway);
            InNs(Peer, "ip", "route", "add", "default", "via", RouterPeerAddress);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Vm { get; }

    public string Router { get; }

    public string Peer { get; }

    /// <summary>The router's interface towards the VM (the VM's 'tap').</summary>
    public string RouterVmSide { get; }

    /// <summary>The router's interface towards the peer (the 'uplink').</summary>
    public string RouterPeerSide { get; }

    public string VmAddress { get; }

    public string Gateway { get; }

    public string RouterPeerAddress { get; }

    public string PeerAddress { get; }

    public string ResolverAddress { get; }

    public static string InNs(string ns, params string[] args) => ProcessRunner.Run("ip", ["netns", "exec", ns, .. args], TimeSpan.FromSeconds(20));

    public static string TryInNs(string ns, params string[] args) => ProcessRunner.Run("ip", ["netns", "exec", ns, .. args], TimeSpan.FromSeconds(20), check: false);

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

    /// <summary>One ping from a namespace (1 s limit); true when it was answered.</summary>
    public static bool Ping(string ns, string address) =>
        TryInNs(ns, "ping", "-c", "1", "-W", "1", "-q", address).Contains(" 1 received", StringComparison.Ordinal);

    /// <summary>
    /// Starts the peer's receiver on the given addresses and ports, runs <paramref name="send"/>, stops the receiver
    /// (a datagram to port 7999 of the first address, sent from the peer itself) and returns its counts per "addr:port".
    /// </summary>
    public Dictionary<string, int> Receive(string[] addresses, int[] ports, Action send)
    {
        Process receiver = Start(Peer, "python3", "-u", _script, "recv", string.Join(',', addresses), string.Join(',', ports), "15");
        using var lines = new System.Collections.Concurrent.BlockingCollection<string>();
        receiver.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lines.Add(e.Data);
            }
        };
        receiver.BeginOutputReadLine();
        Assert.True(lines.TryTake(out string? ready, TimeSpan.FromSeconds(10)) && ready == "ready", $"receiver did not start: {ready}");
        send();
        Thread.Sleep(200); // the last datagrams cross the router
        InNs(Peer, "python3", "-c", $"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b's', ('{addresses[0]}', 7999))");
        Assert.True(lines.TryTake(out string? result, TimeSpan.FromSeconds(20)), "receiver gave no counts");
        Assert.True(receiver.WaitForExit(5000));
        return JsonSerializer.Deserialize<Dictionary<string, int>>(result)!;
    }

    /// <summary>Sends <paramref name="count"/> datagrams from the VM (from a fixed source port), 2 ms apart.</summary>
    public int SendFromVm(string destination, int sourcePort, int destinationPort, int count) =>
        int.Parse(InNs(Vm, "python3", _script, "send", destination, sourcePort.ToString(), destinationPort.ToString(), count.ToString()).Trim(), System.Globalization.CultureInfo.InvariantCulture);

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

        foreach (string ns in new[] { Vm, Router, Peer })
        {
            ProcessRunner.Run("ip", ["netns", "del", ns], TimeSpan.FromSeconds(10), check: false);
        }

        File.Delete(_script);
    }

    private static void Run(string file, params string[] args) => ProcessRunner.Run(file, args, TimeSpan.FromSeconds(10));
}
