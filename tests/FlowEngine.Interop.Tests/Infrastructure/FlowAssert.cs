// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Reflection;
using FlowEngine.Capture;
using FlowEngine.Flows;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>Flow records from the file reader, and field-by-field comparison of sorted record lists.</summary>
internal static class FlowAssert
{
    private static readonly FieldInfo[] s_fields = typeof(FlowRecord).GetFields(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>The oracle: a pipeline over <see cref="CaptureFile.Open"/>.</summary>
    public static List<FlowRecord> FromFile(string path, FlowPipelineOptions? options = null)
    {
        var records = new List<FlowRecord>();
        using CaptureFileReader reader = CaptureFile.Open(path);
        new FlowPipeline(FlowSink.ToList(records), options).Run(reader);
        return records;
    }

    public static List<FlowRecord> Sorted(IEnumerable<FlowRecord> records) =>
        records.OrderBy(r => r.FirstNs)
            .ThenBy(r => r.LastNs)
            .ThenBy(r => r.Protocol)
            .ThenBy(r => r.SourceAddress.ToString(r.IpVersion), StringComparer.Ordinal)
            .ThenBy(r => r.DestinationAddress.ToString(r.IpVersion), StringComparer.Ordinal)
            .ThenBy(r => r.SourcePort)
            .ThenBy(r => r.DestinationPort)
            .ThenBy(r => r.IcmpId)
            .ThenBy(r => r.VnId)
            .ThenBy(r => r.VlanId)
            .ThenBy(r => r.ForwardPackets)
            .ThenBy(r => r.ReversePackets)
            .ThenBy(r => r.IsContinuation)
            .ToList();

    /// <summary>Sorts both lists and compares every public field of every record.</summary>
    public static void Equal(IEnumerable<FlowRecord> expected, IEnumerable<FlowRecord> actual, string what, IReadOnlyCollection<string>? ignoredFields = null)
    {
        List<FlowRecord> e = Sorted(expected);
        List<FlowRecord> a = Sorted(actual);
        Assert.True(e.Count == a.Count, $"{what}: {e.Count} flows expected, {a.Count} read; expected [{string.Join("; ", e.Select(f => Describe(f)))}], read [{string.Join("; ", a.Select(f => Describe(f)))}]");
        for (int i = 0; i < e.Count; i++)
        {
            foreach (FieldInfo field in s_fields)
            {
                if (ignoredFields is not null && ignoredFields.Contains(field.Name))
                {
                    continue;
                }

                object? x = Comparable(field.GetValue(e[i]));
                object? y = Comparable(field.GetValue(a[i]));
                Assert.True(Equals(x, y), $"{what}: flow {i} ({Describe(e[i])}) field {field.Name}: expected {x}, read {y}");
            }
        }
    }

    private static object? Comparable(object? value)
    {
        if (value is FirstPacketSizes sizes)
        {
            ReadOnlySpan<short> span = sizes;
            return string.Join(',', span.ToArray());
        }

        return value;
    }

    public static string Describe(in FlowRecord r) =>
        $"proto {r.Protocol} {r.SourceAddress.ToString(r.IpVersion)}:{r.SourcePort} -> {r.DestinationAddress.ToString(r.IpVersion)}:{r.DestinationPort} vn {r.VnKind}/{r.VnId} pkts {r.ForwardPackets}/{r.ReversePackets}";
}
