// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;
using Spectre.Console;

namespace FlowEngine.Sensor;

/// <summary>
/// <c>profile &lt;capture&gt; [--vm NAME] [--json]</c>: the behavioural profile of every VM and virtual network in a
/// capture (docs/vm-context.md), as a table or JSON; optionally continued from and saved to a snapshot.
/// </summary>
internal static class ProfileCommand
{
    public static Command Create(Option<FileInfo?> inventoryOption)
    {
        var capture = new Argument<FileInfo?>("capture") { Description = "A pcap or pcapng file. Default: the bundled lab capture.", Arity = ArgumentArity.ZeroOrOne };
        var vm = new Option<string?>("--vm") { Description = "Show one profile in detail (a VM's name, or vni:5001 for a network)." };
        var json = new Option<bool>("--json") { Description = "JSON on stdout instead of tables." };
        var restore = new Option<FileInfo?>("--restore") { Description = "Start from this snapshot (a damaged one is reported and ignored)." };
        var snapshot = new Option<FileInfo?>("--snapshot") { Description = "Save the profiles to this snapshot file at the end." };
        var zone = new Option<string?>("--time-zone") { Description = "Time zone of the hour-of-week shapes (IANA id, e.g. Europe/Berlin). Default UTC." };
        var top = new Option<int>("--top") { Description = "Entries per list in the detailed view.", DefaultValueFactory = _ => 10 };
        var command = new Command("profile", "Learn and print the behavioural profiles of the VMs and virtual networks of a capture.")
        {
            capture, inventoryOption, vm, json, restore, snapshot, zone, top,
        };
        command.SetAction(parse =>
        {
            IAnsiConsole err = Consoles.Error();
            if (!ModelCommands.TryInputs(parse, capture, inventoryOption, null, zone, err, out string path, out VmInventory? inventory, out _, out FlowClock clock))
            {
                return 2;
            }

            var options = new ProfileOptions { TimeZone = clock.Zone };

            ProfileStore store = new(options);
            if (parse.GetValue(restore) is FileInfo from)
            {
                store = ProfileStore.LoadOrEmpty(from.FullName, options, out string? problem);
                if (problem is not null)
                {
                    err.MarkupLine($"[yellow]warning:[/] {Markup.Escape(problem)}");
                }
            }

            var restored = store.Profiles.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            var metadata = new AppMetadataTable();
            var vms = new VmIdentityTable(inventory);
            var sink = new ProfileSink(store, metadata, vms);
            int exit = 0;
            try
            {
                using CaptureFileReader source = CaptureFile.Open(path);
                using var pipeline = new FlowPipeline<FlowExtensions<AppMetadataExtension, VmIdentityExtension>>(
                    sink, new FlowPipelineOptions(), new(new AppMetadataExtension(metadata), new VmIdentityExtension(vms)));
                pipeline.Run(source);
            }
            catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException)
            {
                // Profiles of the flows before the damage are kept and printed.
                err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                exit = 1;
            }

            if (vms.IsLearning)
            {
                // A learned address seen before its gateway was recognised is outside after all: no VM profile.
                var inside = vms.Vms.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
                // Only profiles this run created: a restored profile of a VM absent from this capture stays.
                foreach (BehaviourProfile p in store.Profiles.Where(p => p.Kind == ProfileKind.Vm && p.Name.Contains('/', StringComparison.Ordinal) && !inside.Contains(p.Name) && !restored.Contains(p.Name)).ToList())
                {
                    store.Remove(p.Name);
                }
            }

            string? name = parse.GetValue(vm);
            BehaviourProfile? one = null;
            if (name is not null && !store.TryGet(name, out one))
            {
                err.MarkupLine($"[red]error:[/] no profile named '{Markup.Escape(name)}'; known: {Markup.Escape(string.Join(", ", store.Profiles.Select(p => p.Name).Order(StringComparer.Ordinal)))}");
                return 2;
            }

            List<BehaviourProfile> chosen = one is not null ? [one] : [.. store.Profiles.OrderBy(p => p.Kind).ThenBy(p => p.Name, StringComparer.Ordinal)];
            if (parse.GetValue(json))
            {
                using Stream stdout = Console.OpenStandardOutput();
                WriteJson(stdout, chosen, parse.GetValue(top));
            }
            else if (one is not null)
            {
                PrintDetail(Consoles.Output(), one, parse.GetValue(top));
            }
            else
            {
                PrintSummary(Consoles.Output(), chosen);
            }

            if (parse.GetValue(snapshot) is FileInfo to)
            {
                store.Save(to.FullName);
                err.MarkupLine($"saved {store.Profiles.Count} profiles to {Markup.Escape(to.FullName)}");
            }

            return exit;
        });
        return command;
    }

    private static void PrintSummary(IAnsiConsole console, List<BehaviourProfile> profiles)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in new[] { "profile", "kind", "flows out/in", "bytes out/in", "EWMA B/s out/in", "peers", "top peer", "top service", "applications" })
        {
            table.AddColumn(column);
        }

        foreach (BehaviourProfile p in profiles)
        {
            HeavyHitter? peer = p.Peers.Top() is { Count: > 0 } peers ? peers[0] : null;
            HeavyHitter? service = (p.Kind == ProfileKind.Vm && p.FlowsOut >= p.FlowsIn ? p.ServicesUsed : p.ServicesOffered).Top() is { Count: > 0 } s ? s[0] : null;
            table.AddRow(
                Markup.Escape(p.Name), p.Kind == ProfileKind.Vm ? "vm" : "network", $"{N(p.FlowsOut)}/{N(p.FlowsIn)}", $"{N(p.BytesOut)}/{N(p.BytesIn)}",
                $"{N(p.EwmaBytesPerSecondOut)}/{N(p.EwmaBytesPerSecondIn)}", N(p.PeerFirstSeen.Count),
                peer is null ? "" : Markup.Escape(Address(peer.Value.Label)), service is null ? "" : Service(service.Value.Label), Markup.Escape(Applications(p)));
        }

        console.Write(table);
    }

    private static void PrintDetail(IAnsiConsole console, BehaviourProfile p, int top)
    {
        var head = new Table().Border(TableBorder.Rounded).AddColumn("field").AddColumn(new TableColumn("value").RightAligned());
        head.AddRow("profile", Markup.Escape(p.Name));
        head.AddRow("kind", p.Kind == ProfileKind.Vm ? "vm" : "network");
        head.AddRow("first flow", Time(p.FirstNs));
        head.AddRow("last flow", Time(p.LastNs));
        head.AddRow("flows out / in", $"{N(p.FlowsOut)} / {N(p.FlowsIn)}");
        head.AddRow("bytes out / in", $"{N(p.BytesOut)} / {N(p.BytesIn)}");
        head.AddRow("B/s out / in (EWMA)", $"{N(p.EwmaBytesPerSecondOut)} / {N(p.EwmaBytesPerSecondIn)}");
        head.AddRow("peers seen", $"{N(p.PeerFirstSeen.Count)} ({N(p.PeerFirstSeen.Forgotten)} forgotten)");
        head.AddRow("protocols", Markup.Escape(Protocols(p)));
        head.AddRow("applications", Markup.Escape(Applications(p)));
        foreach ((string label, RunningStatistics s) in new[] { ("CPU, cores", p.Cpu), ("memory, bytes", p.Memory), ("disk read, B/s", p.DiskRead), ("disk write, B/s", p.DiskWrite) })
        {
            head.AddRow(label, s.Count == 0 ? "no samples" : $"{s.Mean:G4} ± {Math.Sqrt(s.Variance):G3} ({N(s.Count)} samples)");
        }

        console.Write(head);
        List("peers", p.Peers, top, Address, console);
        List("services used", p.ServicesUsed, top, Service, console);
        List("services offered", p.ServicesOffered, top, Service, console);
        List("DNS names", p.DnsNames, top, b => Markup.Escape(Encoding.UTF8.GetString(b)), console);
        List("TLS server names", p.TlsServerNames, top, b => Markup.Escape(Encoding.UTF8.GetString(b)), console);

        var shape = new Table().Border(TableBorder.Rounded).Title("bandwidth per hour of the week (hours with traffic)")
            .AddColumn("hour").AddColumn(new TableColumn("B/s out").RightAligned()).AddColumn(new TableColumn("B/s in").RightAligned()).AddColumn(new TableColumn("hours seen").RightAligned());
        for (int h = 0; h < BehaviourProfile.HoursPerWeek; h++)
        {
            if (p.MeanBytesPerSecondOut(h) > 0 || p.MeanBytesPerSecondIn(h) > 0)
            {
                shape.AddRow($"{(DayOfWeek)(h / 24)} {h % 24:00}:00", p.MeanBytesPerSecondOut(h).ToString("N1", CultureInfo.InvariantCulture), p.MeanBytesPerSecondIn(h).ToString("N1", CultureInfo.InvariantCulture), N(p.HoursSeen(h)));
            }
        }

        console.Write(shape);
    }

    private static void List(string title, HeavyHitters hh, int top, Func<byte[], string> label, IAnsiConsole console)
    {
        IReadOnlyList<HeavyHitter> entries = hh.Top();
        if (entries.Count == 0)
        {
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).Title($"{title} ({entries.Count} tracked of {N(hh.Total)} flows)")
            .AddColumn(title).AddColumn(new TableColumn("flows").RightAligned()).AddColumn(new TableColumn("± error").RightAligned())
            .AddColumn(new TableColumn("bytes").RightAligned()).AddColumn("first seen").AddColumn("last seen");
        foreach (HeavyHitter e in entries.Take(top))
        {
            table.AddRow(label(e.Label), N(e.Count), N(e.Error), N(e.Bytes), Time(e.FirstNs), Time(e.LastNs));
        }

        console.Write(table);
    }

    private static void WriteJson(Stream stream, List<BehaviourProfile> profiles, int top)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartArray();
        foreach (BehaviourProfile p in profiles)
        {
            w.WriteStartObject();
            w.WriteString("profile", p.Name);
            w.WriteString("kind", p.Kind == ProfileKind.Vm ? "vm" : "network");
            w.WriteNumber("first_ts", Math.Round(p.FirstNs / 1e9, 6));
            w.WriteNumber("last_ts", Math.Round(p.LastNs / 1e9, 6));
            w.WriteNumber("flows", p.Flows);
            w.WriteNumber("flows_out", p.FlowsOut);
            w.WriteNumber("flows_in", p.FlowsIn);
            w.WriteNumber("bytes_out", p.BytesOut);
            w.WriteNumber("bytes_in", p.BytesIn);
            w.WriteNumber("ewma_bps_out", Math.Round(p.EwmaBytesPerSecondOut, 3));
            w.WriteNumber("ewma_bps_in", Math.Round(p.EwmaBytesPerSecondIn, 3));
            w.WriteNumber("peers_seen", p.PeerFirstSeen.Count);
            w.WriteNumber("peers_forgotten", p.PeerFirstSeen.Forgotten);
            w.WriteStartObject("protocols");
            for (int i = 0; i < p.Protocols.Length; i++)
            {
                if (p.Protocols[i] != 0)
                {
                    w.WriteNumber(i.ToString(CultureInfo.InvariantCulture), p.Protocols[i]);
                }
            }

            w.WriteEndObject();
            w.WriteStartObject("applications");
            for (int i = 0; i < p.Applications.Length; i++)
            {
                if (p.Applications[i] != 0)
                {
                    w.WriteNumber(AppName(i), p.Applications[i]);
                }
            }

            w.WriteEndObject();
            JsonList(w, "peers", p.Peers, top, Address);
            JsonList(w, "services_used", p.ServicesUsed, top, Service);
            JsonList(w, "services_offered", p.ServicesOffered, top, Service);
            JsonList(w, "dns_names", p.DnsNames, top, b => Encoding.UTF8.GetString(b));
            JsonList(w, "tls_server_names", p.TlsServerNames, top, b => Encoding.UTF8.GetString(b));
            w.WriteStartArray("hour_of_week");
            for (int h = 0; h < BehaviourProfile.HoursPerWeek; h++)
            {
                if (p.HoursSeen(h) > 0)
                {
                    w.WriteStartObject();
                    w.WriteNumber("hour", h);
                    w.WriteNumber("bps_out", Math.Round(p.MeanBytesPerSecondOut(h), 3));
                    w.WriteNumber("bps_in", Math.Round(p.MeanBytesPerSecondIn(h), 3));
                    w.WriteNumber("hours_seen", p.HoursSeen(h));
                    w.WriteEndObject();
                }
            }

            w.WriteEndArray();
            w.WriteStartObject("resources");
            foreach ((string label, RunningStatistics s) in new[] { ("cpu_cores", p.Cpu), ("memory_bytes", p.Memory), ("disk_read_bps", p.DiskRead), ("disk_write_bps", p.DiskWrite) })
            {
                w.WriteStartObject(label);
                w.WriteNumber("samples", s.Count);
                w.WriteNumber("mean", s.Mean);
                w.WriteNumber("stddev", Math.Sqrt(s.Variance));
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.Flush();
        stream.Write("\n"u8);
    }

    private static void JsonList(Utf8JsonWriter w, string name, HeavyHitters hh, int top, Func<byte[], string> label)
    {
        w.WriteStartArray(name);
        foreach (HeavyHitter e in hh.Top().Take(top))
        {
            w.WriteStartObject();
            w.WriteString("value", label(e.Label));
            w.WriteNumber("flows", e.Count);
            w.WriteNumber("error", e.Error);
            w.WriteNumber("bytes", e.Bytes);
            w.WriteNumber("first_ts", Math.Round(e.FirstNs / 1e9, 6));
            w.WriteNumber("last_ts", Math.Round(e.LastNs / 1e9, 6));
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static string Address(byte[] label) => label.Length == 17
        ? new IPAddress(label[16] == 6 ? label.AsSpan(0, 16) : label.AsSpan(0, 4)).ToString()
        : Convert.ToHexString(label);

    private static string Service(byte[] label) => label.Length == 3
        ? $"{Proto(label[0])}/{(label[1] << 8) | label[2]}"
        : Convert.ToHexString(label);

    private static string Proto(byte p) => p switch { 6 => "tcp", 17 => "udp", 1 => "icmp", 58 => "icmp6", 132 => "sctp", _ => p.ToString(CultureInfo.InvariantCulture) };

    private static string AppName(int app) => app switch { 0 => "unknown", _ => ((AppProtocol)app).ToString().ToLowerInvariant() };

    private static string Applications(BehaviourProfile p)
    {
        var parts = new List<string>();
        for (int i = 0; i < p.Applications.Length; i++)
        {
            if (p.Applications[i] != 0)
            {
                parts.Add($"{AppName(i)} {p.Applications[i]}");
            }
        }

        return string.Join(", ", parts);
    }

    private static string Protocols(BehaviourProfile p)
    {
        var parts = new List<string>();
        for (int i = 0; i < p.Protocols.Length; i++)
        {
            if (p.Protocols[i] != 0)
            {
                parts.Add($"{Proto((byte)i)} {p.Protocols[i]}");
            }
        }

        return string.Join(", ", parts);
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string Time(long ns) => ns == 0 ? "" : DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private sealed class ProfileSink(ProfileStore store, AppMetadataTable metadata, VmIdentityTable vms) : IFlowSink
    {
        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                VmIdentity identity = vms.ForRecord(i);
                store.Observe(in records[i], in identity, metadata.ForRecord(i));
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

/// <summary>Consoles for people and for machines: ANSI only on a terminal, never with NO_COLOR set.</summary>
internal static class Consoles
{
    public static IAnsiConsole Error() => Create(Console.Error, Console.IsErrorRedirected);

    public static IAnsiConsole Output() => Create(Console.Out, Console.IsOutputRedirected);

    private static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        bool plain = redirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = plain ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            // A file or a pipe has no width: do not wrap tables at 80 columns.
            console.Profile.Width = 200;
        }

        return console;
    }
}
