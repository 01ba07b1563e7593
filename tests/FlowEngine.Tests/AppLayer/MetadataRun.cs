// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Flows;

namespace FlowEngine.Tests.AppLayer;

/// <summary>A flow record with a managed copy of its application metadata, taken during the sink call.</summary>
internal sealed record MetadataFlow(FlowRecord Record, AppProtocol App, Dictionary<AppField, string> Text, int DnsQueryType, int DnsResponseCode, int DnsAnswers, int DnsQueries, int DnsDistinctNames, int HttpStatus, int TlsVersion, int TlsClientVersion, string[] DnsAddresses)
{
    public string? this[AppField field] => Text.TryGetValue(field, out string? v) ? v : null;

    public string Key => $"{Record.SourceAddress.ToString(Record.IpVersion)}:{Record.SourcePort}>{Record.DestinationAddress.ToString(Record.IpVersion)}:{Record.DestinationPort}/{Record.Protocol}";
}

/// <summary>Runs a capture through a pipeline with the metadata extension and keeps every record with its metadata.</summary>
internal static class MetadataRun
{
    public static (List<MetadataFlow> Flows, AppMetadataTable Table) Run(string capture, AppMetadataOptions? options = null, FlowPipelineOptions? pipelineOptions = null)
    {
        var table = new AppMetadataTable(options);
        var sink = new Sink(table);
        using var pipeline = new FlowPipeline<AppMetadataExtension>(sink, pipelineOptions ?? new FlowPipelineOptions(), new AppMetadataExtension(table));
        using (CaptureFileReader source = CaptureFile.Open(capture))
        {
            pipeline.Run(source);
        }

        return (sink.Flows, table);
    }

    public static MetadataFlow Snapshot(in FlowRecord r, AppMetadata m)
    {
        var text = new Dictionary<AppField, string>();
        foreach (AppField f in Enum.GetValues<AppField>())
        {
            ReadOnlySpan<byte> v = m.Get(f);
            if (!v.IsEmpty)
            {
                text[f] = Encoding.UTF8.GetString(v);
            }
        }

        string[] addresses = new string[m.DnsAddressCount];
        for (int i = 0; i < addresses.Length; i++)
        {
            addresses[i] = m.GetDnsAddress(i, out byte version).ToString(version);
        }

        return new MetadataFlow(r, m.App, text, m.DnsQueryType, m.DnsResponseCode, m.DnsAnswerCount, m.DnsQueryCount, m.DnsDistinctNames, m.HttpStatus, m.TlsVersion, m.TlsClientVersion, addresses);
    }

    private sealed class Sink(AppMetadataTable table) : IFlowSink
    {
        public readonly List<MetadataFlow> Flows = [];

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                Flows.Add(Snapshot(in records[i], table.ForRecord(i)));
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
