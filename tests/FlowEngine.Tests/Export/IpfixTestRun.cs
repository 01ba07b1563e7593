// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Export;
using FlowEngine.Flows;
using FlowEngine.Tests.Capture;

namespace FlowEngine.Tests.Export;

/// <summary>The application metadata of one record as the pipeline gave it to its sinks.</summary>
internal readonly record struct ExpectedMetadata(AppProtocol App, string Dns, string Host, string Sni, string Ja3, string Ja4);

/// <summary>Runs a capture through a pipeline whose sinks are a recorder and an exporter.</summary>
internal static class IpfixTestRun
{
    public static string Capture(string relative) => Path.Combine(CaptureTestFiles.CorporaDirectory(), relative);

    /// <summary>Runs the capture; the exporter is completed before returning.</summary>
    public static (List<FlowRecord> Records, List<ExpectedMetadata> Metadata, IpfixExporterStatistics Statistics) Export(
        string capture, string collector, IpfixExporterOptions? options = null, bool withMetadata = false)
    {
        AppMetadataTable? table = withMetadata ? new AppMetadataTable() : null;
        var recorder = new RecordingSink(table);
        using IpfixExporter exporter = IpfixExporter.Create(collector, options, table);
        IFlowSink sink = FlowSink.Composite(recorder, exporter);
        using (CaptureFileReader reader = CaptureFile.Open(capture))
        {
            if (table is null)
            {
                using var pipeline = new FlowPipeline(sink);
                pipeline.Run(reader);
            }
            else
            {
                using var pipeline = new FlowPipeline<AppMetadataExtension>(sink, new FlowPipelineOptions(), new AppMetadataExtension(table));
                pipeline.Run(reader);
            }
        }

        exporter.Complete();
        return (recorder.Records, recorder.Metadata, exporter.Statistics);
    }

    private sealed class RecordingSink(AppMetadataTable? table) : IFlowSink
    {
        public List<FlowRecord> Records { get; } = [];

        public List<ExpectedMetadata> Metadata { get; } = [];

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                Records.Add(records[i]);
                if (table is not null)
                {
                    AppMetadata m = table.ForRecord(i);
                    static string S(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);
                    Metadata.Add(new ExpectedMetadata(m.App, S(m.Get(AppField.DnsQuery)), S(m.Get(AppField.HttpHost)), S(m.Get(AppField.TlsSni)), S(m.Get(AppField.Ja3)), S(m.Get(AppField.Ja4))));
                }
            }
        }

        public void Flush()
        {
        }

        public void Complete()
        {
        }
    }
}

/// <summary>A UDP socket on loopback that keeps every datagram it receives.</summary>
internal sealed class UdpCollector : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public UdpCollector()
    {
        _socket.ReceiveBufferSize = 8 << 20;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public string Uri => $"udp://127.0.0.1:{Port}";

    /// <summary>Receives <paramref name="count"/> datagrams, waiting at most 10 s for each.</summary>
    public List<byte[]> Receive(long count)
    {
        var datagrams = new List<byte[]>();
        var buffer = new byte[65536];
        _socket.ReceiveTimeout = 10_000;
        for (long i = 0; i < count; i++)
        {
            int n = _socket.Receive(buffer);
            datagrams.Add(buffer[..n]);
        }

        _socket.ReceiveTimeout = 200;
        Assert.Throws<SocketException>(() => _socket.Receive(buffer));
        return datagrams;
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>Starts external tools with a bounded life and captures their output.</summary>
internal sealed class ExternalProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    public ExternalProcess(string file, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (KeyValuePair<string, string> kv in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        _process.OutputDataReceived += OnLine;
        _process.ErrorDataReceived += OnLine;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Runs a tool to its end (at most 60 s) and returns its exit code and output.</summary>
    public static (int ExitCode, string Output) Run(string file, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        using var p = new ExternalProcess(file, arguments, environment);
        int code = p.WaitForExit(TimeSpan.FromSeconds(60));
        return (code, p.Output);
    }

    /// <summary>Waits until the output holds <paramref name="text"/>.</summary>
    public void WaitForOutput(string text, TimeSpan timeout)
    {
        lock (_gate)
        {
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (!_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0 || _process.HasExited)
                {
                    throw new TimeoutException($"'{text}' not seen from {_process.StartInfo.FileName} (exited: {_process.HasExited}); output so far:\n{_output}");
                }

                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Min(left, 200)));
            }
        }
    }

    /// <summary>Sends a signal (TERM, INT) through kill(1).</summary>
    public void Signal(string name)
    {
        (int code, string output) = Run("/bin/kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(code == 0, $"kill -{name} failed: {output}");
    }

    /// <summary>Waits for the process to end; kills it and throws after <paramref name="timeout"/>.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(true);
            throw new TimeoutException($"{_process.StartInfo.FileName} did not end within {timeout}; output:\n{Output}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    private void OnLine(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(e.Data);
            Monitor.PulseAll(_gate);
        }
    }
}
