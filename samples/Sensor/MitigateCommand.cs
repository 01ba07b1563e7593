// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Interop.Mitigation;
using FlowEngine.Mitigation;
using FlowEngine.Packets;
using Spectre.Console;

namespace FlowEngine.Sensor;

/// <summary>
/// mitigate: feeds the alerts of a JSON Lines file (detect's output) through a mitigation policy and a handler, with
/// every safety rule, writing the audit log. Dry-run unless --enforce. Holds what it applied for --hold seconds (or
/// until Ctrl+C), then reverts everything.
/// </summary>
internal static class MitigateCommand
{
    public static Command Create()
    {
        var alertsArgument = new Argument<FileInfo>("alerts") { Description = "Alerts, JSON Lines (detect's output: ts, type, confidence, vm, vn_type, vn_id, proto, src_ip, src_port, dst_ip, dst_port, target)." };
        var mitigation = new MitigationCliOptions();
        var holdOption = new Option<double>("--hold") { Description = "Seconds to keep the actions in force (TTLs still apply) before reverting everything and exiting.", DefaultValueFactory = _ => 0 };
        var confidenceOption = new Option<double>("--confidence") { Description = "Confidence of alerts whose line has none.", DefaultValueFactory = _ => 0 };
        var policyPrintOption = new Option<bool>("--print-default-policy") { Description = "Print the default policy file and exit." };
        var command = new Command("mitigate", "Apply a mitigation policy to alerts (dry-run unless --enforce) and write the audit log.")
        {
            alertsArgument, holdOption, confidenceOption, policyPrintOption,
        };
        mitigation.AddTo(command);
        command.SetAction(parse =>
        {
            IAnsiConsole err = Consoles.Error();
            if (parse.GetValue(policyPrintOption))
            {
                Console.Out.WriteLine(MitigationPolicy.DefaultJson);
                return 0;
            }

            List<Alert> alerts;
            try
            {
                alerts = ReadAlerts(parse.GetValue(alertsArgument)!.FullName, parse.GetValue(confidenceOption));
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return 2;
            }

            using MitigationController? created = mitigation.Create(parse, err, packetTime: false);
            if (created is not MitigationController controller)
            {
                return 2;
            }

            using var stop = new ManualResetEventSlim();
            ConsoleCancelEventHandler cancel = (_, e) =>
            {
                e.Cancel = true;
                stop.Set();
            };
            Console.CancelKeyPress += cancel;
            using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Set();
            });
            try
            {
                foreach (Alert alert in alerts)
                {
                    controller.OnAlert(in alert);
                }

                double hold = parse.GetValue(holdOption);
                if (hold > 0 && controller.InForce.Count > 0)
                {
                    err.MarkupLine($"holding {controller.InForce.Count} actions for {hold:0.#} s (Ctrl+C or SIGTERM reverts them now)");
                    stop.Wait(TimeSpan.FromSeconds(hold));
                }
            }
            finally
            {
                Console.CancelKeyPress -= cancel;
                controller.Dispose(); // reverts everything, also on Ctrl+C
            }

            MitigationCliOptions.Report(err, alerts.Count, controller);
            return controller.Failed > 0 ? 1 : 0;
        });
        return command;
    }

    // Reads the alert lines; a line that is not an alert is an error naming its number.
    private static List<Alert> ReadAlerts(string path, double defaultConfidence)
    {
        var alerts = new List<Alert>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using JsonDocument doc = JsonDocument.Parse(line);
                JsonElement o = doc.RootElement;
                string type = o.GetProperty("type").GetString() ?? "anomaly";
                AttackClass c = Enum.GetValues<AttackClass>().FirstOrDefault(k => k != AttackClass.None && MitigationPolicy.ClassName(k) == type);
                IPAddress src = IPAddress.Parse(o.GetProperty("src_ip").GetString()!);
                IPAddress dst = IPAddress.Parse(o.GetProperty("dst_ip").GetString()!);
                byte version = src.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? (byte)4 : (byte)6;
                long ns = o.TryGetProperty("ts", out JsonElement ts) ? (long)(ts.GetDouble() * 1e9) : 0;
                long last = o.TryGetProperty("last_ts", out JsonElement lt) ? (long)(lt.GetDouble() * 1e9) : 0;
                VirtualNetworkKind kind = (o.TryGetProperty("vn_type", out JsonElement vt) ? vt.GetString() : "none") switch
                {
                    "vlan" => VirtualNetworkKind.Vlan,
                    "vxlan" => VirtualNetworkKind.Vxlan,
                    "geneve" => VirtualNetworkKind.Geneve,
                    "gre" => VirtualNetworkKind.Gre,
                    _ => VirtualNetworkKind.None,
                };
                uint vnId = o.TryGetProperty("vn_id", out JsonElement vi) ? vi.GetUInt32() : 0;
                var flow = new FlowIdentity(
                    new VirtualNetworkId(kind, vnId), version, o.TryGetProperty("proto", out JsonElement pr) ? pr.GetByte() : (byte)0,
                    IpAddress.From(src), o.TryGetProperty("src_port", out JsonElement sp) ? sp.GetUInt16() : (ushort)0,
                    IpAddress.From(dst), o.TryGetProperty("dst_port", out JsonElement dp) ? dp.GetUInt16() : (ushort)0, ns);
                IpAddress? target = o.TryGetProperty("target", out JsonElement t) && t.ValueKind == JsonValueKind.String && IPAddress.TryParse(t.GetString(), out IPAddress? ta) ? IpAddress.From(ta) : null;
                alerts.Add(new Alert(ns, c, o.TryGetProperty("score", out JsonElement s) ? s.GetDouble() : 0, flow)
                {
                    Confidence = o.TryGetProperty("confidence", out JsonElement cf) ? cf.GetDouble() : defaultConfidence,
                    Vm = o.TryGetProperty("vm", out JsonElement vm) ? vm.GetString() : null,
                    Target = target,
                    Count = o.TryGetProperty("count", out JsonElement n) ? n.GetInt32() : 1,
                    LastNs = last,
                });
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentNullException)
            {
                throw new FormatException($"{path}: line {lineNumber} is not an alert: {e.Message}", e);
            }
        }

        return alerts;
    }
}

/// <summary>The mitigation options that mitigate and detect share: handler, policy, audit log, enforcement, namespace.</summary>
internal sealed class MitigationCliOptions
{
    private readonly Option<string> _handler = new("--mitigate") { Description = $"The handler: {MitigationHandlers.Specs}.", DefaultValueFactory = _ => "dry-run" };
    private readonly Option<FileInfo?> _policy = new("--policy") { Description = "The policy file (JSON, docs/mitigation.md). Default: the default policy." };
    private readonly Option<FileInfo?> _audit = new("--audit") { Description = "Append the audit log (JSON Lines) to this file. Default: stdout for mitigate, stderr for detect." };
    private readonly Option<bool> _enforce = new("--enforce") { Description = "Apply the actions (without it, every decision is audited and nothing is applied)." };
    private readonly Option<string?> _netns = new("--netns") { Description = "Network namespace the nftables and tc handlers act in." };

    /// <summary>Whether --mitigate was given.</summary>
    public bool Given(ParseResult parse) => parse.GetResult(_handler) is { Implicit: false };

    public void AddTo(Command command)
    {
        command.Options.Add(_handler);
        command.Options.Add(_policy);
        command.Options.Add(_audit);
        command.Options.Add(_enforce);
        command.Options.Add(_netns);
    }

    /// <summary>The controller the options describe; null after printing why when they cannot be used.</summary>
    public MitigationController? Create(ParseResult parse, IAnsiConsole err, bool packetTime, Stream? defaultAudit = null)
    {
        MitigationPolicy policy;
        try
        {
            policy = parse.GetValue(_policy) is FileInfo p ? MitigationPolicy.Load(p.FullName) : MitigationPolicy.Default();
        }
        catch (Exception e) when (e is MitigationPolicyFormatException or IOException or UnauthorizedAccessException)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return null;
        }

        string? ns = parse.GetValue(_netns);
        IMitigationHandler handler;
        try
        {
            handler = MitigationHandlers.Create(parse.GetValue(_handler)!, new MitigationHandlerSettings
            {
                Nftables = new NftablesHandlerOptions { NetworkNamespace = ns },
                Tc = new TcHandlerOptions { NetworkNamespace = ns },
            });
        }
        catch (Exception e) when (e is ArgumentException or MitigationHandlerException)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return null;
        }

        FileInfo? auditFile = parse.GetValue(_audit);
        MitigationAuditLog audit = auditFile is null ? new MitigationAuditLog(defaultAudit ?? Console.OpenStandardOutput()) : MitigationAuditLog.Append(auditFile.FullName);
        return new MitigationController(policy, handler, audit, new MitigationControllerOptions { DryRun = !parse.GetValue(_enforce), PacketTime = packetTime });
    }

    public static void Report(IAnsiConsole err, int alerts, MitigationController controller) =>
        err.MarkupLine($"{alerts} alerts: {controller.Decided} actions decided, {controller.Applied} {(controller.DryRun ? "simulated (dry-run)" : "applied")}, {controller.Refused} refused, {controller.Failed} failed, {controller.Reverted} reverted");
}
