// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.AppLayer;
using FlowEngine.Benchmarks.Flows;
using FlowEngine.Capture;
using FlowEngine.Export;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Export;

/// <summary>
/// IPFIX encoding of a batch of real flow records (the flows of samples/data/lab-small.pcapng, repeated to
/// <see cref="Records"/>) into the exporter's message writer, finishing a message whenever the next record does not
/// fit (1472-byte messages): the encoder alone, no socket. Reported per record; must not allocate.
/// </summary>
[MemoryDiagnoser]
public class IpfixEncodeBenchmarks
{
    private const int Records = 4096;

    private readonly FlowRecord[] _records = new FlowRecord[Records];
    private IpfixMessageWriter? _biflow;
    private IpfixMessageWriter? _uniflow;

    [GlobalSetup]
    public void Setup()
    {
        var flows = new List<FlowRecord>();
        using (var pipeline = new FlowPipeline(FlowSink.ToList(flows)))
        using (CaptureFileReader reader = CaptureFile.Open(LabCapture.Path))
        {
            pipeline.Run(reader);
        }

        if (flows.Count == 0)
        {
            throw new InvalidOperationException($"{LabCapture.Path} gave no flows");
        }

        for (int i = 0; i < Records; i++)
        {
            _records[i] = flows[i % flows.Count];
        }

        _biflow = new IpfixMessageWriter(new IpfixExporterOptions(), withMetadata: false);
        _uniflow = new IpfixMessageWriter(new IpfixExporterOptions { Biflow = false }, withMetadata: false);
    }

    /// <summary>Biflow records (RFC 5103), the default.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public int EncodeBiflow() => Encode(_biflow!, reverse: false);

    /// <summary>Uniflow records, forward direction only (what a uniflow export writes for a one-way flow).</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public int EncodeUniflow() => Encode(_uniflow!, reverse: false);

    private int Encode(IpfixMessageWriter writer, bool reverse)
    {
        int bytes = 0;
        uint sequence = 0;
        AppMetadata none = default;
        for (int i = 0; i < _records.Length; i++)
        {
            if (!writer.TryAppend(in _records[i], reverse, none))
            {
                sequence += (uint)writer.RecordCount;
                bytes += writer.Finish(1_700_000_000, sequence).Length;
                writer.TryAppend(in _records[i], reverse, none);
            }
        }

        bytes += writer.Finish(1_700_000_000, sequence).Length;
        return bytes;
    }
}
