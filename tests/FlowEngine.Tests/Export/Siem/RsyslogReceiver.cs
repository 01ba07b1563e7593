// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FlowEngine.Tests.Export.Siem;

/// <summary>
/// A private rsyslogd (Debian's rsyslog): its own config, imudp and imtcp on loopback ports, no imuxsock or imklog (so
/// nothing touches the system's syslog), every message written to a file by a template of its RFC 5424 properties, one
/// tab-separated line per message: input, protocol-version, hostname, app-name, procid, msgid, structured-data, msg.
/// </summary>
internal sealed class RsyslogReceiver : IDisposable
{
    private readonly Process _process;
    private bool _disposed;

    private RsyslogReceiver(string dir, Process process, int udpPort, int tcpPort)
    {
        Directory = dir;
        _process = process;
        UdpPort = udpPort;
        TcpPort = tcpPort;
    }

    public string Directory { get; }

    public int UdpPort { get; }

    public int TcpPort { get; }

    public string OutputPath => Path.Combine(Directory, "messages.log");

    public static RsyslogReceiver Start()
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("fe-rsyslog-").FullName;
        int udp = FreePort(SocketType.Dgram, ProtocolType.Udp);
        int tcp = FreePort(SocketType.Stream, ProtocolType.Tcp);
        string config = $$"""
            global(workDirectory="{{dir}}" maxMessageSize="64k")
            module(load="imudp")
            module(load="imtcp")
            template(name="fields" type="list") {
              property(name="inputname") constant(value="\t")
              property(name="protocol-version") constant(value="\t")
              property(name="hostname") constant(value="\t")
              property(name="app-name") constant(value="\t")
              property(name="procid") constant(value="\t")
              property(name="msgid") constant(value="\t")
              property(name="structured-data") constant(value="\t")
              property(name="msg") constant(value="\n")
            }
            ruleset(name="fe") {
              action(type="omfile" file="{{dir}}/messages.log" template="fields" flushOnTXEnd="on" asyncWriting="off")
            }
            input(type="imudp" address="127.0.0.1" port="{{udp}}" ruleset="fe")
            input(type="imtcp" address="127.0.0.1" port="{{tcp}}" ruleset="fe")
            """;
        string conf = Path.Combine(dir, "rsyslog.conf");
        File.WriteAllText(conf, config);
        var start = new ProcessStartInfo("rsyslogd")
        {
            ArgumentList = { "-n", "-f", conf, "-i", Path.Combine(dir, "rsyslogd.pid") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process = Process.Start(start) ?? throw new InvalidOperationException("rsyslogd did not start");
        var receiver = new RsyslogReceiver(dir, process, udp, tcp);
        try
        {
            receiver.WaitListening();
        }
        catch
        {
            receiver.Dispose();
            throw;
        }

        return receiver;
    }

    /// <summary>The lines written so far, waiting until at least <paramref name="count"/> (or the timeout).</summary>
    public string[] WaitForLines(int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        string[] lines = [];
        while (clock.Elapsed < timeout)
        {
            if (File.Exists(OutputPath))
            {
                lines = File.ReadAllLines(OutputPath);
                if (lines.Length >= count)
                {
                    // A little longer: more than expected must show too.
                    Thread.Sleep(300);
                    return File.ReadAllLines(OutputPath);
                }
            }

            Thread.Sleep(50);
        }

        return lines;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private void WaitListening()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"rsyslogd exited {_process.ExitCode}: {_process.StandardError.ReadToEnd()}");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, TcpPort);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException("rsyslogd did not listen within 15 s");
    }

    private static int FreePort(SocketType type, ProtocolType protocol)
    {
        using var s = new Socket(AddressFamily.InterNetwork, type, protocol);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
