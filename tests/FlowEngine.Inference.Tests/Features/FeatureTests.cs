// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;
using FlowEngine.Inference.Features;
using FlowEngine.Inference.Model;
using FlowEngine.Inference.Training;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Inference.Tests.Features;

/// <summary>
/// Feature rows: the SIMD normaliser against its scalar reference at every tail length, the schema's shape, and rows
/// of the bundled lab capture (one-hot groups whole, nothing infinite, missing context marked, DNS tunnel names standing
/// out from ordinary ones, outside peers marked so) that the trainer accepts; no allocation per row.
/// </summary>
public sealed class FeatureTests
{
    [Fact]
    public void Normalizer_Vector_EqualsScalar_BitForBit_AtEveryWidthAndTail()
    {
        var random = new Random(11);
        for (int width = 1; width <= 160; width++)
        {
            float[] mean = Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray();
            float[] std = Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() * 3 + 0.01)).ToArray();
            var normalizer = new FeatureNormalizer(mean, std);
            float[] rows = Enumerable.Range(0, width * 3).Select(i => i % 7 == 3 ? float.NaN : (float)(random.NextDouble() * 100 - 50)).ToArray();
            float[] vector = (float[])rows.Clone(), scalar = (float[])rows.Clone();
            normalizer.Normalize(vector);
            normalizer.NormalizeScalar(scalar);
            Assert.Equal(scalar.Select(BitConverter.SingleToInt32Bits), vector.Select(BitConverter.SingleToInt32Bits));
            for (int i = 0; i < rows.Length; i++)
            {
                float expected = float.IsNaN(rows[i]) ? 0 : (rows[i] - mean[i % width]) * (1f / std[i % width]);
                Assert.Equal(expected, vector[i]);
            }
        }

        Assert.Throws<ArgumentException>(() => new FeatureNormalizer([0f], [0f]));
        Assert.Throws<ArgumentException>(() => new FeatureNormalizer([0f, 1f], [1f]));
        Assert.Throws<ArgumentException>(() => new FeatureNormalizer([0f, 0f, 0f], [1f, 1f, 1f]).Normalize(new float[4]));
    }

    [Fact]
    public void Fit_GivesMeanAndDeviation_SkippingMissing_AndUnitDeviationForConstants()
    {
        float[] rows = [1, 5, float.NaN, 3, 5, 2, 5, 5, 4];
        (float[] mean, float[] std) = FeatureNormalizer.Fit(rows, 3);
        Assert.Equal([3f, 5f, 3f], mean);
        Assert.Equal(2f, std[0], 5);
        Assert.Equal(1f, std[1]);
        Assert.Equal((float)Math.Sqrt(2), std[2], 5);
    }

    [Fact]
    public void Schema_NamesEveryColumnOnce_AndBuildsAModelSpec()
    {
        Assert.Equal(FeatureSchema.Width, FeatureSchema.ColumnNames.Count);
        Assert.Equal(FeatureSchema.Width, FeatureSchema.ColumnNames.Distinct().Count());
        Assert.Equal(FeatureSchema.MissingInventory, FeatureSchema.Width - 1);
        Assert.Equal("peer_vm_known", FeatureSchema.ColumnNames[FeatureSchema.Relation]);
        Assert.Equal("port_dns", FeatureSchema.ColumnNames[FeatureSchema.Port + PortClass.Of(17, 53)]);
        var spec = new FlowModelSpec(FeatureSchema.Width, 16, FeatureSchema.CategoricalHeads.Select(h => new CategoricalHead(h.Name, h.Classes)), FeatureSchema.GaussianHeads);
        Assert.Equal(FeatureSchema.Width, spec.InputWidth);
    }

    [Fact]
    public void DnsNameStatistics_OnKnownNames()
    {
        FlowFeatures.DnsNameStatistics("aaaa.bb"u8, out float length, out float labels, out float longest, out float entropy, out float digits, out float hex);
        Assert.Equal(7 / 64f, length);
        Assert.Equal(2 / 4f, labels);
        Assert.Equal(4 / 63f, longest);
        double p = 4 / 6.0, q = 2 / 6.0;
        Assert.Equal((float)((-(p * Math.Log2(p)) - (q * Math.Log2(q))) / 4), entropy, 6);
        Assert.Equal(0, digits);
        Assert.Equal(1, hex); // a and b are hex letters
        FlowFeatures.DnsNameStatistics("www.example.com"u8, out _, out _, out _, out float plainEntropy, out _, out float plainHex);
        FlowFeatures.DnsNameStatistics("4f7a9c01e2b3d4c5a6f7e8d9.t.cloudsync-api.test"u8, out _, out _, out float tunnelLongest, out float tunnelEntropy, out float tunnelDigits, out float tunnelHex);
        Assert.True(tunnelEntropy > plainEntropy);
        Assert.True(tunnelHex > plainHex);
        Assert.True(tunnelLongest > 20 / 63f && tunnelDigits > 0.2);
    }

    [Fact]
    public void LabRows_AreWholeAndFinite_MarkMissingContext_AndTheTrainerAcceptsThem()
    {
        List<Row> rows = LabRows(withProfiles: true, withMetadata: true);
        Assert.True(rows.Count > 2000, $"{rows.Count} rows");
        foreach (Row r in rows)
        {
            float[] x = r.Values;
            Assert.Equal(1f, x.AsSpan(FeatureSchema.VnKind, 5).ToArray().Sum());
            Assert.Equal(1f, x.AsSpan(FeatureSchema.Relation, FeatureSchema.RelationClasses).ToArray().Sum());
            Assert.Equal(1f, x.AsSpan(FeatureSchema.Protocol, 4).ToArray().Sum());
            Assert.Equal(1f, x.AsSpan(FeatureSchema.Port, PortClass.Count).ToArray().Sum());
            Assert.Equal(1f, x.AsSpan(FeatureSchema.App, FeatureSchema.AppClasses).ToArray().Sum());
            Assert.Equal(r.Record.Protocol == 6 ? 1f : 0f, x.AsSpan(FeatureSchema.TcpState, 5).ToArray().Sum());
            Assert.All(x, v => Assert.False(float.IsInfinity(v)));
            Assert.Equal(1f, x[FeatureSchema.MissingResources]);
            Assert.True(x.AsSpan(FeatureSchema.Resources, FeatureSchema.ResourceColumns).ToArray().All(float.IsNaN));
            Assert.Equal(0f, x[FeatureSchema.MissingInventory]);
            Assert.Equal(0f, x[FeatureSchema.MissingProfile]);
            Assert.InRange(r.Classes[0], 0, FeatureSchema.RelationClasses - 1);
            Assert.InRange(r.Classes[1], 0, FeatureSchema.PeerBuckets - 1);
            Assert.InRange(r.Classes[2], 0, (2 * PortClass.Count) - 1);
            Assert.Equal(r.Perspective == FlowPerspective.Responder ? 1f : 0f, x[FeatureSchema.IsResponder]);
        }

        // Outside peers (the lab's external range) are outside for the VM that called them.
        var outbound = rows.Where(r => r.Perspective == FlowPerspective.Originator && r.Record.DestinationAddress.ToString(4).StartsWith("203.0.113.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(outbound);
        Assert.All(outbound, r => Assert.Equal(1f, r.Values[FeatureSchema.Relation + 2] + r.Values[FeatureSchema.Relation + 3]));

        // The DNS tunnel's names stand out from the other DNS names of the capture: longer labels, higher entropy.
        var dns = rows.Where(r => r.Perspective == FlowPerspective.Originator && r.DnsName is not null).ToList();
        var tunnel = dns.Where(r => r.DnsName!.EndsWith("t.cloudsync-api.test", StringComparison.Ordinal)).ToList();
        var others = dns.Except(tunnel).ToList();
        Assert.True(tunnel.Count > 50 && others.Count > 10, $"{tunnel.Count} tunnel, {others.Count} other");
        Assert.True(Median(tunnel, FeatureSchema.DnsEntropy) > Median(others, FeatureSchema.DnsEntropy));
        Assert.True(Median(tunnel, FeatureSchema.DnsLongestLabel) > 2 * Median(others, FeatureSchema.DnsLongestLabel));

        // Rows and targets make sequences the trainer accepts (normalised with constants fitted on them).
        float[] all = rows.SelectMany(r => r.Values).ToArray();
        (float[] mean, float[] std) = FeatureNormalizer.Fit(all, FeatureSchema.Width);
        new FeatureNormalizer(mean, std).Normalize(all);
        Assert.All(all, v => Assert.True(float.IsFinite(v)));
        var spec = new FlowModelSpec(FeatureSchema.Width, 8, FeatureSchema.CategoricalHeads.Select(h => new CategoricalHead(h.Name, h.Classes)), FeatureSchema.GaussianHeads);
        var sequence = new FlowSequence(spec, all, rows.SelectMany(r => r.Classes).ToArray(), rows.SelectMany(r => r.TargetValues).ToArray());
        Assert.Equal(rows.Count, sequence.Length);
    }

    [Fact]
    public void WithoutMetadataOrProfiles_TheColumnsAreMissing_NotZero()
    {
        List<Row> rows = LabRows(withProfiles: false, withMetadata: false);
        Assert.All(rows, r =>
        {
            Assert.Equal(1f, r.Values[FeatureSchema.MissingMetadata]);
            Assert.Equal(1f, r.Values[FeatureSchema.MissingProfile]);
            Assert.True(float.IsNaN(r.Values[FeatureSchema.App]) && float.IsNaN(r.Values[FeatureSchema.NewPeer]));
            Assert.Equal(-1, r.Classes[3]);
        });
    }

    [Fact]
    public void Assemble_AllocatesNothing()
    {
        List<Row> rows = LabRows(withProfiles: false, withMetadata: false);
        var clock = new FlowClock();
        float[] row = new float[FeatureSchema.Width];
        int[] classes = new int[4];
        float[] values = new float[2];
        long Pass()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            foreach (Row r in rows)
            {
                var context = new FlowContext(r.Vms, default, default, hasMetadata: false, hasProfile: false);
                FlowRecord record = r.Record;
                FlowFeatures.Assemble(in record, in context, r.Perspective, clock, row);
                FlowFeatures.Targets(in record, in context, r.Perspective, classes, values);
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Pass();
        Assert.Equal(0, Pass());
    }

    private static float Median(List<Row> rows, int column)
    {
        float[] v = rows.Select(r => r.Values[column]).Order().ToArray();
        return v[v.Length / 2];
    }

    private sealed record Row(FlowRecord Record, VmIdentity Vms, FlowPerspective Perspective, float[] Values, int[] Classes, float[] TargetValues, string? DnsName);

    private static List<Row> LabRows(bool withProfiles, bool withMetadata)
    {
        string data = Path.Combine(Repository.Root(), "samples", "data");
        var vms = new VmIdentityTable(VmInventory.Load(Path.Combine(data, "lab-small.inventory.csv")));
        var metadata = new AppMetadataTable();
        var store = new ProfileStore();
        var rows = new List<Row>();
        var sink = new RowSink(vms, withMetadata ? metadata : null, withProfiles ? store : null, rows);
        using CaptureFileReader reader = CaptureFile.Open(Path.Combine(data, "lab-small.pcapng"));
        using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(sink, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms)));
        pipeline.Run(reader);
        return rows;
    }

    private sealed class RowSink(VmIdentityTable vms, AppMetadataTable? metadata, ProfileStore? store, List<Row> rows) : IFlowSink
    {
        private readonly FlowClock _clock = new();

        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                VmIdentity v = vms.ForRecord(i);
                AppMetadata m = metadata is null ? default : metadata.ForRecord(i);
                ProfileUpdate update = store is null ? default : store.Observe(in records[i], in v, m);
                var context = new FlowContext(v, m, update, metadata is not null, store is not null);
                ReadOnlySpan<byte> dns = m.Get(AppField.DnsQuery);
                foreach ((FlowPerspective p, VmInfo? vm) in new[] { (FlowPerspective.Originator, v.Source), (FlowPerspective.Responder, v.Destination) })
                {
                    if (vm is null)
                    {
                        continue;
                    }

                    float[] row = new float[FeatureSchema.Width];
                    int[] classes = new int[FeatureSchema.CategoricalHeads.Count];
                    float[] values = new float[FeatureSchema.GaussianHeads.Count];
                    FlowFeatures.Assemble(in records[i], in context, p, _clock, row);
                    FlowFeatures.Targets(in records[i], in context, p, classes, values);
                    rows.Add(new Row(records[i], v, p, row, classes, values, dns.IsEmpty ? null : Encoding.ASCII.GetString(dns)));
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
