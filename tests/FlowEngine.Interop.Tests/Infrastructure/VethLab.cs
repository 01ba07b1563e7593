// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>
/// A veth pair: one end in the root namespace (where the capture runs, 10.213.X.1), the other in a network
/// namespace of its own (10.213.X.2) serving a file of known size with python3 -m http.server. Offloads and IPv6
/// are off so that what is captured is what is sent, frame by frame. Everything is removed on dispose.
/// </summary>
/// <remarks>
/// A tcpdump comparison is only fair on a veth whose offloads are off (`ethtool -k` in each namespace): with
/// TSO/GSO on, a 400 kB download crossed as 32 super-frames of up to 46-65 kB instead of 208 frames; with only
/// GRO on, the receiving end showed 33. Both sources then see what tcpdump sees, frame for frame.
/// </remarks>
internal sealed class VethLab : IDisposable
{
    private static int s_instances;
    private readonly Process? _server;

    /// <param name="fileBytes">Size of the served file.</param>
    /// <param name="peerRate">A tc rate (e.g. "80mbit") that paces what the namespace sends (tbf on its veth end); null for none.</param>
    public VethLab(int fileBytes, string? peerRate = null)
    {
        int n = Interlocked.Increment(ref s_instances);
        int id = (Environment.ProcessId % 1000) * 10 + n;
        Namespace = $"fe-ns-{id}";
        HostInterface = $"fe{id}h";
        PeerInterface = $"fe{id}p";
        int subnet = (id % 250) + 1;
        HostAddress = $"10.213.{subnet}.1";
        PeerAddress = $"10.213.{subnet}.2";
        Directory = TestPaths.NewTempPath(".www");
        System.IO.Directory.CreateDirectory(Directory);
        FileBytes = fileBytes;
        var content = new byte[fileBytes];
        new Random(fileBytes).NextBytes(content);
        File.WriteAllBytes(Path.Combine(Directory, "file.bin"), content);
        try
        {
            Ip("netns", "add", Namespace);
            Ip("link", "add", HostInterface, "type", "veth", "peer", "name", PeerInterface);
            Ip("link", "set", PeerInterface, "netns", Namespace);
            Sh("sysctl", "-qw", $"net.ipv6.conf.{HostInterface}.disable_ipv6=1");
            InNs("sysctl", "-qw", $"net.ipv6.conf.{PeerInterface}.disable_ipv6=1");
            Ip("addr", "add", HostAddress + "/30", "dev", HostInterface);
            InNs("ip", "addr", "add", PeerAddress + "/30", "dev", PeerInterface);
            Sh("ethtool", "-K", HostInterface, "tso", "off", "gso", "off", "gro", "off");
            InNs("ethtool", "-K", PeerInterface, "tso", "off", "gso", "off", "gro", "off");
            Ip("link", "set", HostInterface, "up");
            InNs("ip", "link", "set", PeerInterface, "up");
            InNs("ip", "link", "set", "lo", "up");
            if (peerRate is not null)
            {
                InNs("tc", "qdisc", "add", "dev", PeerInterface, "root", "tbf", "rate", peerRate, "burst", "16kb", "latency", "500ms");
            }

            var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "netns", "exec", Namespace, "python3", "-m", "http.server", "8080", "--bind", PeerAddress, "--directory", Directory })
            {
                info.ArgumentList.Add(a);
            }

            _server = Process.Start(info) ?? throw new InvalidOperationException("python3 -m http.server did not start");
            _server.OutputDataReceived += (_, _) => { };
            _server.ErrorDataReceived += (_, _) => { };
            _server.BeginOutputReadLine();
            _server.BeginErrorReadLine();
            WaitForServer();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Namespace { get; }

    public string HostInterface { get; }

    public string PeerInterface { get; }

    public string HostAddress { get; }

    public string PeerAddress { get; }

    public string Directory { get; }

    public int FileBytes { get; }

    public string Url => $"http://{PeerAddress}:8080/file.bin";

    /// <summary>Starts curl for the file; its output is "request-bytes header-bytes body-bytes".</summary>
    /// <param name="limitRate">curl's --limit-rate (e.g. "4M"): paces the server through TCP flow control; null for none.</param>
    public Process StartCurl(string? limitRate = null)
    {
        var info = new ProcessStartInfo("curl") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-s", "-S", "--max-time", "20", "-o", "/dev/null", "-w", "%{size_request} %{size_header} %{size_download}", Url })
        {
            info.ArgumentList.Add(a);
        }

        if (limitRate is not null)
        {
            info.ArgumentList.Add("--limit-rate");
            info.ArgumentList.Add(limitRate);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("curl did not start");
    }

    public void Dispose()
    {
        if (_server is not null)
        {
            try
            {
                _server.Kill(entireProcessTree: true);
                _server.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }

            _server.Dispose();
        }

        ProcessRunner.Run("ip", ["link", "del", HostInterface], TimeSpan.FromSeconds(10), check: false);
        ProcessRunner.Run("ip", ["netns", "del", Namespace], TimeSpan.FromSeconds(10), check: false);
    }

    private void WaitForServer()
    {
        // Connects from the namespace itself, so that the probes never cross the captured veth.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            string output = ProcessRunner.Run("ip", ["netns", "exec", Namespace, "python3", "-c", $"import socket; socket.create_connection(('{PeerAddress}', 8080), 1).close(); print('up')"], TimeSpan.FromSeconds(10), check: false);
            if (output.Contains("up", StringComparison.Ordinal))
            {
                return;
            }

            Thread.Sleep(50);
        }

        Assert.Fail($"http.server in {Namespace} did not listen within 15 s");
    }

    private static void Ip(params string[] args) => ProcessRunner.Run("ip", args, TimeSpan.FromSeconds(10));

    private static void Sh(string file, params string[] args) => ProcessRunner.Run(file, args, TimeSpan.FromSeconds(10));

    private void InNs(params string[] args) => ProcessRunner.Run("ip", ["netns", "exec", Namespace, .. args], TimeSpan.FromSeconds(10));
}
