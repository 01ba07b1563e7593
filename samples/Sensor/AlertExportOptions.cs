// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Runtime.CompilerServices;
using FlowEngine.Detection;
using FlowEngine.Export.Siem;

[assembly: InternalsVisibleTo("FlowEngine.Tests")]

namespace FlowEngine.Sensor;

/// <summary>
/// The SIEM export options of a command (docs/siem.md): <c>--alerts-ecs FILE</c>, <c>--syslog udp://HOST:PORT|tcp://HOST:PORT</c>
/// and <c>--webhook URL</c>, defined once and added to any command with <see cref="AddTo"/>; <see cref="TryBuild"/>
/// turns the parsed values into one <see cref="AlertExport"/> sink.
/// </summary>
internal sealed class AlertExportOptions
{
    public Option<FileInfo?> EcsFile { get; } = new("--alerts-ecs") { Description = "Also write the alerts as Elastic Common Schema JSON Lines to this file (docs/siem.md)." };

    public Option<string?> Syslog { get; } = new("--syslog") { Description = "Also send the alerts as CEF in RFC 5424 syslog: udp://HOST:PORT, or tcp://HOST:PORT (octet-counted framing)." };

    public Option<string?> Webhook { get; } = new("--webhook") { Description = "Also POST each alert as an ECS JSON document to this http(s) URL, with retries and backoff." };

    public Option<string?> ObserverName { get; } = new("--observer-name") { Description = "The sensor's name in exported alerts (ECS observer.name, syslog HOSTNAME, CEF dvchost). Default: the machine name." };

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(EcsFile);
        command.Options.Add(Syslog);
        command.Options.Add(Webhook);
        command.Options.Add(ObserverName);
    }

    /// <summary>The sink of the options given: null (and no error) when none was; null and an error message when a value is bad.</summary>
    public AlertExport? TryBuild(ParseResult parse, out string? error)
    {
        error = null;
        FileInfo? ecs = parse.GetValue(EcsFile);
        string? syslog = parse.GetValue(Syslog);
        string? webhook = parse.GetValue(Webhook);
        if (ecs is null && syslog is null && webhook is null)
        {
            return null;
        }

        var options = parse.GetValue(ObserverName) is string name ? new SiemExportOptions { ObserverName = name } : new SiemExportOptions();
        var export = new AlertExport();
        try
        {
            options.Validate();
            if (ecs is not null)
            {
                export.Add("ecs " + ecs.FullName, EcsFileAlertSink.Create(ecs.FullName, options));
            }

            if (syslog is not null)
            {
                SyslogAlertSink sink = SyslogAlertSink.Create(syslog, options);
                export.Add($"syslog {syslog}", sink);
            }

            if (webhook is not null)
            {
                if (!Uri.TryCreate(webhook, UriKind.Absolute, out Uri? url))
                {
                    throw new ArgumentException($"'{webhook}' is not an absolute URL");
                }

                export.Add("webhook " + url, new WebhookAlertSink(new WebhookClient(url), options));
            }

            return export;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            export.Dispose();
            return null;
        }
    }
}

/// <summary>
/// The SIEM sinks of one run as one <see cref="IAlertSink"/>: each alert goes to all of them (none blocks the caller);
/// <see cref="CompleteAsync"/> delivers what is queued; <see cref="Summary"/> gives one line of counters per sink, for stderr.
/// </summary>
internal sealed class AlertExport : IAlertSink, IAsyncDisposable, IDisposable
{
    private readonly List<(string Name, IAlertSink Sink)> _sinks = [];

    public void Add(string name, IAlertSink sink) => _sinks.Add((name, sink));

    public void OnAlert(in Alert alert)
    {
        foreach ((_, IAlertSink sink) in _sinks)
        {
            sink.OnAlert(in alert);
        }
    }

    /// <summary>Delivers what is queued, at most <paramref name="timeout"/> per sink; false when one did not finish.</summary>
    public async Task<bool> CompleteAsync(TimeSpan timeout)
    {
        bool all = true;
        foreach ((_, IAlertSink sink) in _sinks)
        {
            all &= sink switch
            {
                QueuedAlertSink q => await q.CompleteAsync(timeout).ConfigureAwait(false),
                WebhookAlertSink w => await w.Client.CompleteAsync(timeout).ConfigureAwait(false),
                _ => true,
            };
        }

        return all;
    }

    /// <summary>One line per sink: what was sent, dropped and failed (always worth printing: a drop must not go unnoticed).</summary>
    public IEnumerable<string> Summary()
    {
        foreach ((string name, IAlertSink sink) in _sinks)
        {
            if (sink is QueuedAlertSink q)
            {
                AlertSinkStatistics s = q.Statistics;
                yield return $"{name}: {s.Sent} sent, {s.Dropped} dropped (queue full), {s.Failed} failed, {s.Retries} reconnects";
            }
            else if (sink is WebhookAlertSink w)
            {
                WebhookStatistics s = w.Client.Statistics;
                yield return $"{name}: {s.Delivered} delivered, {s.Dropped} dropped (queue full), {s.Failed} failed, {s.Retries} retries ({s.RetryAfterHonoured} after Retry-After)";
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach ((_, IAlertSink sink) in _sinks)
        {
            if (sink is IAsyncDisposable d)
            {
                await d.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        foreach ((_, IAlertSink sink) in _sinks)
        {
            (sink as IDisposable)?.Dispose();
        }
    }
}
