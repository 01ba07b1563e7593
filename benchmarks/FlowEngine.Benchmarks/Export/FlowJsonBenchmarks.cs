// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using BenchmarkDotNet.Attributes;
using FlowEngine.AppLayer;
using FlowEngine.Benchmarks.Flows;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Export;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Export;

/// <summary>
/// JSON Lines formatting of flow records (the flows of samples/data/lab-small.pcapng, repeated to <see cref="Records"/>)
/// into a reused buffer: <see cref="FlowRecordJsonWriter"/> against the sensor's writer before it (System.Text.Json's
/// Utf8JsonWriter), records alone, with both VM ends from the lab inventory and a VM state timeline, and with HTTP, TLS
/// or DNS metadata as well. Reported per record; the span writer must not allocate.
/// </summary>
[MemoryDiagnoser]
public class FlowJsonBenchmarks : IDisposable
{
    private const int Records = 4096;

    private readonly FlowRecord[] _records = new FlowRecord[Records];
    private readonly VmIdentity[] _vms = new VmIdentity[Records];
    private readonly ArrayBufferWriter<byte> _buffer = new(Records * 2048);
    private AppMetadataBlock[] _blocks = [];
    private FlowRecordJsonWriter? _plain;
    private FlowRecordJsonWriter? _withState;
    private LegacyFlowJsonWriter? _legacy;

    [GlobalSetup]
    public void Setup()
    {
        string inventory = Path.Combine(Path.GetDirectoryName(LabCapture.Path)!, "lab-small.inventory.csv");
        var table = new VmIdentityTable(VmInventory.Load(inventory));
        var sink = new CaptureSink(table);
        using (var pipeline = new FlowPipeline<VmIdentityExtension>(sink, new FlowPipelineOptions(), new VmIdentityExtension(table)))
        using (CaptureFileReader reader = CaptureFile.Open(LabCapture.Path))
        {
            pipeline.Run(reader);
        }

        for (int i = 0; i < Records; i++)
        {
            _records[i] = sink.Records[i % sink.Records.Count];
            _vms[i] = sink.Vms[i % sink.Vms.Count];
        }

        // One sample a second for every inventory VM over the capture's time span.
        long from = (_records.Min(r => r.FirstNs) / 1_000_000_000) - 1, to = (_records.Max(r => r.LastNs) / 1_000_000_000) + 2;
        var csv = new StringWriter();
        csv.WriteLine("time_ns,vm,cpu_ns,memory_bytes,disk_read_bytes,disk_write_bytes");
        string[] names = File.ReadAllLines(inventory).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        for (long t = from; t <= to; t++)
        {
            foreach (string name in names)
            {
                long s = t - from;
                csv.WriteLine($"{t * 1_000_000_000},{name},{s * 333_333_333},{1_073_741_824 + (s * 4096)},{s * 12_345},{s * 1_000_003}");
            }
        }

        VmStateTimeline timeline = VmStateTimeline.Parse(new StringReader(csv.ToString()));
        _plain = new FlowRecordJsonWriter(_buffer);
        _withState = new FlowRecordJsonWriter(_buffer, timeline);
        _legacy = new LegacyFlowJsonWriter(Stream.Null, ownsStream: false);
        _blocks = new AppMetadataBlock[3];
        ref AppMetadataBlock http = ref _blocks[0];
        http.Reset();
        http.Set(AppField.HttpMethod, "GET"u8, 64);
        http.Set(AppField.HttpHost, "api.internal.example.com"u8, 256);
        http.Set(AppField.HttpUri, "/v1/orders?id=12345&expand=items"u8, 256);
        http.Set(AppField.HttpUserAgent, "curl/8.5.0"u8, 256);
        http.HttpStatus = 200;
        ref AppMetadataBlock tls = ref _blocks[1];
        tls.Reset();
        tls.Set(AppField.TlsSni, "login.example.net"u8, 256);
        tls.Set(AppField.TlsAlpn, "h2"u8, 64);
        tls.Set(AppField.Ja3, "771,4865-4866-4867-49195,0-23-65281-10-11-35,29-23-24,0"u8, 256);
        tls.Set(AppField.Ja4, "t13d1516h2_8daaf6152771_b186095e22b6"u8, 256);
        tls.TlsVersion = 0x0304;
        ref AppMetadataBlock dns = ref _blocks[2];
        dns.Reset();
        dns.Set(AppField.DnsQuery, "db1.acme.internal"u8, 256);
        dns.DnsQueryType = 1;
        dns.DnsResponseCode = 0;
        dns.DnsAnswers = 1;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _legacy?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The sensor's writer before: System.Text.Json's Utf8JsonWriter, records alone.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public int Utf8JsonWriterRecords()
    {
        _legacy!.OnFlows(_records);
        return (int)_legacy.Count;
    }

    /// <summary>Records alone (no VM, no metadata).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public int RecordsOnly()
    {
        _buffer.ResetWrittenCount();
        for (int i = 0; i < _records.Length; i++)
        {
            _plain!.Write(in _records[i]);
        }

        return _buffer.WrittenCount;
    }

    /// <summary>Records with both VM ends (inventory), tenant, gaps and the VMs' state at start and end.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public int WithVmsAndState()
    {
        _buffer.ResetWrittenCount();
        AppMetadata none = default;
        for (int i = 0; i < _records.Length; i++)
        {
            _withState!.Write(in _records[i], in _vms[i], in none);
        }

        return _buffer.WrittenCount;
    }

    /// <summary>As <see cref="WithVmsAndState"/>, each record with HTTP, TLS or DNS metadata in turn.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public int WithVmsStateAndMetadata()
    {
        _buffer.ResetWrittenCount();
        AppProtocol[] apps = [AppProtocol.Http, AppProtocol.Tls, AppProtocol.Dns];
        for (int i = 0; i < _records.Length; i++)
        {
            int k = i % 3;
            var m = new AppMetadata(apps[k], ref _blocks[k], true);
            _withState!.Write(in _records[i], in _vms[i], in m);
        }

        return _buffer.WrittenCount;
    }

    private sealed class CaptureSink(VmIdentityTable table) : IFlowSink
    {
        public List<FlowRecord> Records { get; } = [];

        public List<VmIdentity> Vms { get; } = [];

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                Records.Add(records[i]);
                Vms.Add(table.ForRecord(i));
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
