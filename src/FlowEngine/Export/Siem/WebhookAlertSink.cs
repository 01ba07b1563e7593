// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Detection;

namespace FlowEngine.Export.Siem;

/// <summary>
/// Each alert as one ECS JSON document POSTed to a URL by a <see cref="WebhookClient"/> (retries, backoff, Retry-After,
/// a bounded queue with counted drops), its <see cref="AlertFormat.EventId"/> as the Idempotency-Key.
/// <see cref="OnAlert"/> formats on the caller's thread and never blocks.
/// </summary>
public sealed class WebhookAlertSink : IAlertSink, IAsyncDisposable, IDisposable
{
    private readonly EcsAlertWriter _writer;

    /// <summary>Creates a sink.</summary>
    /// <param name="client">The client (owned: disposed with the sink).</param>
    /// <param name="options">Observer names and limits.</param>
    public WebhookAlertSink(WebhookClient client, SiemExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        Client = client;
        _writer = new EcsAlertWriter(options);
    }

    /// <summary>The client.</summary>
    public WebhookClient Client { get; }

    /// <inheritdoc/>
    public void OnAlert(in Alert alert) => Client.TryEnqueue(_writer.ToBytes(in alert), AlertFormat.EventId(in alert));

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => Client.DisposeAsync();

    /// <inheritdoc/>
    public void Dispose() => Client.Dispose();
}
