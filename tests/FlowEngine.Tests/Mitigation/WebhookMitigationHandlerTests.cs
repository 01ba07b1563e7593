// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Export.Siem;
using FlowEngine.Mitigation;
using static FlowEngine.Tests.Mitigation.MitigationTestData;

namespace FlowEngine.Tests.Mitigation;

/// <summary>The webhook handler against an HttpListener on loopback: apply and revert arrive as JSON, retried once refused.</summary>
public sealed class WebhookMitigationHandlerTests
{
    [Fact]
    public async Task ApplyAndRevert_ArriveAsJson_AfterARetry()
    {
        int port;
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)s.LocalEndPoint!).Port;
        }

        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new ConcurrentQueue<(string? Key, string Body, int Status)>();
        int requests = 0;
        Task server = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                using var reader = new StreamReader(context.Request.InputStream);
                string body = await reader.ReadToEndAsync();
                int status = Interlocked.Increment(ref requests) == 1 ? 503 : 200; // the first one is refused
                received.Enqueue((context.Request.Headers["Idempotency-Key"], body, status));
                context.Response.StatusCode = status;
                context.Response.Close();
            }
        });

        MitigationPolicy policy = MitigationPolicy.Parse("""
            { "version": 1, "budget_per_minute": 10, "ttl_seconds": 60, "allowlist": [], "rules": [
              { "class": "c2", "actions": [ { "action": "block", "target": "destination" } ] } ] }
            """);
        var handler = new WebhookMitigationHandler(new Uri($"http://127.0.0.1:{port}/orchestrator"), new WebhookOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), JitterSeed = 1 });
        using var auditStream = new MemoryStream();
        using (var audit = new MitigationAuditLog(auditStream, ownsStream: false))
        using (var controller = new MitigationController(policy, handler, audit, new MitigationControllerOptions { DryRun = false, OwnsHandler = false }))
        {
            controller.OnAlert(Alert(AttackClass.CommandAndControl, 0.9));
            Assert.Equal(1, controller.Applied);
        }

        Assert.True(await handler.CompleteAsync(TimeSpan.FromSeconds(10)));
        handler.Dispose();
        listener.Stop();
        await server.WaitAsync(TimeSpan.FromSeconds(5));

        var delivered = received.Where(r => r.Status == 200).ToList();
        Assert.Equal(2, delivered.Count);
        Assert.Equal(3, received.Count); // the refused apply was sent again, with the same key
        Assert.Equal(received.First().Key, delivered[0].Key);
        JsonElement apply = JsonDocument.Parse(delivered[0].Body).RootElement, revert = JsonDocument.Parse(delivered[1].Body).RootElement;
        Assert.Equal("apply", apply.GetProperty("op").GetString());
        Assert.Equal("block", apply.GetProperty("action").GetProperty("kind").GetString());
        Assert.Equal("203.0.113.9", apply.GetProperty("action").GetProperty("address").GetString());
        Assert.Equal("c2", apply.GetProperty("alert").GetProperty("class").GetString());
        Assert.Equal("revert", revert.GetProperty("op").GetString());
        Assert.Equal(apply.GetProperty("action").GetProperty("key").GetString(), revert.GetProperty("action").GetProperty("key").GetString());
        Assert.Equal(2, handler.Statistics.Delivered);
    }
}
