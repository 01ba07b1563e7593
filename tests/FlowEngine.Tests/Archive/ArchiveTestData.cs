// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Archive;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Detection;
using FlowEngine.Flows;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Archive;

/// <summary>A record with its context as the pipeline's tables gave it: the oracle the archive is compared with.</summary>
internal sealed record ExpectedFlow(
    FlowRecord Record, string? SourceVm, string? DestinationVm, string? Tenant, bool SourceOutside, bool DestinationOutside,
    float? SourceGap, float? DestinationGap, AppProtocol App, string Metadata, double? Score, bool IsAlert, AttackClass AlertClass)
{
    public static ExpectedFlow Of(ArchivedFlow f) => new(
        f.Record, f.SourceVm, f.DestinationVm, f.Tenant, f.SourceOutside, f.DestinationOutside, f.SourceGapSeconds, f.DestinationGapSeconds,
        f.App, f.Metadata is null ? string.Empty : ArchiveTestData.Describe(f.Metadata.View), f.Score, f.IsAlert, f.AlertClass);

    /// <summary>The context as a value (FlowRecord's inline array has no built-in equality; records are compared as bytes).</summary>
    public (string?, string?, string?, bool, bool, float?, float?, AppProtocol, string, double?, bool, AttackClass) Context
        => (SourceVm, DestinationVm, Tenant, SourceOutside, DestinationOutside, SourceGap, DestinationGap, App, Metadata, Score, IsAlert, AlertClass);
}

internal static class ArchiveTestData
{
    public static string LabCapture => Path.Combine(Repository.Root(), "samples", "data", "lab-small.pcapng");

    public static string LabInventory => Path.Combine(Repository.Root(), "samples", "data", "lab-small.inventory.csv");

    /// <summary>Runs the lab capture through the pipeline with metadata and VM identity into <paramref name="directory"/>, returning what was appended.</summary>
    public static List<ExpectedFlow> WriteLab(string directory, ArchiveWriterOptions options)
    {
        var metadata = new AppMetadataTable();
        var vms = new VmIdentityTable(VmInventory.Load(LabInventory));
        var expected = new List<ExpectedFlow>();
        using (var writer = new ArchiveWriter(directory, options))
        {
            var sink = new RecordingSink(writer, metadata, vms, expected);
            using CaptureFileReader capture = CaptureFile.Open(LabCapture);
            new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
                sink, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms))).Run(capture);
            writer.Complete();
        }

        return expected;
    }

    /// <summary>Every value an <see cref="AppMetadata"/> exposes, as one string.</summary>
    public static string Describe(AppMetadata m)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"{m.App} {m.HasDetails} q{m.DnsQueryType} r{m.DnsResponseCode} a{m.DnsAnswerCount} n{m.DnsQueryCount} d{m.DnsDistinctNames} ");
        b.Append(CultureInfo.InvariantCulture, $"h{m.HttpStatus} t{m.TlsVersion} c{m.TlsClientVersion} s{m.TlsCipher} ");
        for (int i = 0; i < m.DnsAddressCount; i++)
        {
            b.Append(m.GetDnsAddress(i, out byte v).ToString(v)).Append(' ');
        }

        for (int f = 0; f < 13; f++)
        {
            b.Append(f).Append('=').Append(Convert.ToHexString(m.Get((AppField)f))).Append(' ');
        }

        return b.ToString();
    }

    public static bool SameBits(in FlowRecord a, in FlowRecord b)
        => MemoryMarshal.AsBytes(new ReadOnlySpan<FlowRecord>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<FlowRecord>(in b)));

    /// <summary>Asserts two flow lists are equal: records bit for bit, contexts value for value, in order.</summary>
    public static void AssertSame(IReadOnlyList<ExpectedFlow> expected, IReadOnlyList<ExpectedFlow> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} flows, expected {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(SameBits(expected[i].Record, actual[i].Record), $"{what}: record {i} differs");
            Assert.Equal(expected[i].Context, actual[i].Context);
        }
    }

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"flowengine-archive-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from))
        {
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
    }

    /// <summary>Appends each record with the tables' context plus a deterministic score and alert, and keeps the oracle.</summary>
    private sealed class RecordingSink(ArchiveWriter writer, AppMetadataTable metadata, VmIdentityTable vms, List<ExpectedFlow> expected) : IFlowSink
    {
        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                int k = expected.Count;
                VmIdentity v = vms.ForRecord(i);
                AppMetadata m = metadata.ForRecord(i);
                FlowContext context = FlowContext.From(v, m);
                context.Score = k % 3 == 0 ? null : k * 0.125;
                context.IsAlert = k % 13 == 0;
                context.AlertClass = k % 13 == 0 ? AttackClass.Exfiltration : AttackClass.None;
                writer.Append(in records[i], in context);
                expected.Add(new ExpectedFlow(
                    records[i], context.SourceVm, context.DestinationVm, context.Tenant, context.SourceOutside, context.DestinationOutside,
                    context.SourceGapSeconds, context.DestinationGapSeconds, m.App, m.App == AppProtocol.Unknown && !m.HasDetails ? string.Empty : Describe(m),
                    context.Score, context.IsAlert, context.AlertClass));
            }
        }

        public void Flush() => writer.Flush();

        public void Complete() => writer.Complete();
    }
}
