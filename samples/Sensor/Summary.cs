// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Context;
using FlowEngine.Packets;
using Spectre.Console;

namespace FlowEngine.Sensor;

/// <summary>The human-readable summary printed to stderr.</summary>
internal static class Summary
{
    public static void Print(IAnsiConsole console, string path, PipelineStatistics s, long records, TimeSpan elapsed, VmIdentityTable? vms = null)
    {
        var table = new Table().Title($"[bold]{Markup.Escape(Path.GetFileName(path))}[/]").AddColumn("counter").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("packets read", s.PacketsRead.ToString("N0"));
        table.AddRow("packets decoded", s.PacketsDecoded.ToString("N0"));
        table.AddRow("packets rejected", s.PacketsRejected.ToString("N0"));
        foreach (KeyValuePair<RejectReason, long> r in s.RejectedByReason())
        {
            table.AddRow($"  rejected: {r.Key}", r.Value.ToString("N0"));
        }

        table.AddRow("flows", records.ToString("N0"));
        table.AddRow("  ended by idle timeout", s.Flows.IdleTimeouts.ToString("N0"));
        table.AddRow("  ended by active timeout", s.Flows.ActiveTimeouts.ToString("N0"));
        table.AddRow("  ended by TCP close", s.Flows.TcpEnds.ToString("N0"));
        table.AddRow("  ended by reuse", s.Flows.Reused.ToString("N0"));
        table.AddRow("  evicted", s.Flows.Evictions.ToString("N0"));
        table.AddRow("  flushed at end of input", s.Flows.Flushed.ToString("N0"));
        if (vms is not null)
        {
            VmIdentityStatistics v = vms.Statistics;
            table.AddRow(vms.IsLearning ? "VMs learned" : "VMs in inventory", vms.Vms.Count.ToString("N0"));
            table.AddRow("  flow ends named", v.EndsResolved.ToString("N0"));
            table.AddRow("  flow ends outside", v.EndsOutside.ToString("N0"));
            table.AddRow("  flow ends unknown", v.EndsUnknown.ToString("N0"));
            if (vms.IsLearning)
            {
                table.AddRow("  gateways recognised", v.GatewaysLearned.ToString("N0"));
            }
        }

        table.AddRow("elapsed", $"{elapsed.TotalMilliseconds:N0} ms");
        console.Write(table);
    }
}
