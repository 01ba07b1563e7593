// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Export.Siem;

namespace FlowEngine.Mitigation;

/// <summary>
/// Hands each action to an orchestrator: a JSON POST per apply and per revert (<c>{"op":"apply"|"revert",
/// "action":{...},"alert":{...}}</c>, the action and alert as the audit log writes them), through a
/// <see cref="WebhookClient"/> (bounded queue, retries with backoff, Retry-After, an idempotency key per operation).
/// Delivery is asynchronous: <see cref="Apply"/> fails only when the queue is full (the controller then audits the
/// action as failed); what the orchestrator makes of it is its own.
/// </summary>
public sealed class WebhookMitigationHandler : IMitigationHandler
{
    private readonly WebhookClient _client;
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    /// <summary>Creates the handler.</summary>
    /// <param name="url">The orchestrator's endpoint (http or https).</param>
    /// <param name="options">Queue and retry options.</param>
    /// <param name="handler">The HTTP handler (tests), or null.</param>
    public WebhookMitigationHandler(Uri url, WebhookOptions? options = null, HttpMessageHandler? handler = null) =>
        _client = new WebhookClient(url, options, handler);

    /// <inheritdoc/>
    public string Name => "webhook:" + _client.Url;

    /// <summary>The client's delivery counters.</summary>
    public WebhookStatistics Statistics => _client.Statistics;

    /// <inheritdoc/>
    public void Apply(MitigationRequest action) => Post("apply", action);

    /// <inheritdoc/>
    public void Revert(MitigationRequest action) => Post("revert", action);

    /// <summary>Delivers what is queued, at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>False when something was still undelivered.</returns>
    public Task<bool> CompleteAsync(TimeSpan timeout) => _client.CompleteAsync(timeout);

    /// <inheritdoc/>
    public void Dispose() => _client.Dispose();

    private void Post(string op, MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(_buffer))
        {
            w.WriteStartObject();
            w.WriteString("op", op);
            w.WritePropertyName("action");
            MitigationAuditLog.WriteAction(w, action);
            if (action.Cause is Alert cause)
            {
                w.WritePropertyName("alert");
                MitigationAuditLog.WriteAlert(w, in cause);
            }

            w.WriteEndObject();
        }

        if (!_client.TryEnqueue(_buffer.WrittenMemory.ToArray(), op + ":" + action.Key))
        {
            throw new MitigationHandlerException($"webhook {_client.Url}: queue full, {op} of {action.Key} not sent");
        }
    }
}
