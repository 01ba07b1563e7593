// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Export.Siem;

namespace FlowEngine.Tests.Export.Siem;

/// <summary>
/// The webhook client against an in-test HttpListener on loopback that fails on purpose: retries with backoff,
/// Retry-After honoured, nothing sent again after a 2xx, no retry of a 4xx, drops counted when the queue is full, and
/// the caller's thread never blocked.
/// </summary>
public class WebhookTests
{
    [Fact]
    public async Task FirstRequestsFail_AlertsArriveOnce_AfterBackoffAndRetryAfter()
    {
        // 503, 503 with Retry-After: 1, 500, then 200 for everything.
        using var server = new ScriptedServer(n => n switch
        {
            0 => (503, null),
            1 => (503, "1"),
            2 => (500, null),
            _ => (200, null),
        });
        var options = new WebhookOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200), JitterSeed = 1 };
        List<Alert> alerts = SiemAlerts.Mixed(6);
        WebhookStatistics stats;
        await using (var sink = new WebhookAlertSink(new WebhookClient(server.Url, options), new SiemExportOptions { ObserverName = "hv1" }))
        {
            foreach (Alert a in alerts)
            {
                sink.OnAlert(in a);
            }

            Assert.True(await sink.Client.CompleteAsync(TimeSpan.FromSeconds(20)));
            stats = sink.Client.Statistics;
        }

        Assert.Equal(new WebhookStatistics(6, 6, 0, 0, 3, 1), stats);
        List<Received> got = [.. server.Requests];
        Assert.Equal(9, got.Count);

        // The first alert was tried four times (same key, same body), then each other alert once: in order, no duplicate after a 2xx.
        string first = AlertFormat.EventId(alerts[0]);
        Assert.All(got.Take(4), r => Assert.Equal(first, r.Key));
        Assert.All(got.Take(4), r => Assert.Equal(got[0].Body, r.Body));
        Assert.Equal(alerts.Select(a => AlertFormat.EventId(in a)), got.Skip(3).Select(r => r.Key));
        Assert.Equal(alerts.Count, got.Where(r => r.Status == 200).Select(r => r.Key).Distinct().Count());
        Assert.Equal(alerts.Count, got.Count(r => r.Status == 200));

        // Retry-After: 1 on the second answer: the third request waited at least a second. The other retries waited
        // at most the backoff cap (200 ms) plus scheduling slack.
        Assert.True(got[2].At - got[1].At >= TimeSpan.FromMilliseconds(950), $"{(got[2].At - got[1].At).TotalMilliseconds} ms after Retry-After: 1");
        Assert.True(got[1].At - got[0].At < TimeSpan.FromMilliseconds(800), $"{(got[1].At - got[0].At).TotalMilliseconds} ms");
        Assert.True(got[3].At - got[2].At < TimeSpan.FromMilliseconds(800), $"{(got[3].At - got[2].At).TotalMilliseconds} ms");

        // Each body is an ECS document of its alert.
        foreach (Received r in got.Where(r => r.Status == 200))
        {
            using JsonDocument doc = JsonDocument.Parse(r.Body);
            Assert.Equal(r.Key, doc.RootElement.GetProperty("event").GetProperty("id").GetString());
            Assert.Equal("application/json", r.ContentType);
        }
    }

    [Fact]
    public async Task FullQueue_DropsAreCounted_AndTheCallerNeverBlocks()
    {
        using var release = new ManualResetEventSlim();
        using var server = new ScriptedServer(n =>
        {
            if (n == 0)
            {
                // The first request hangs until the test lets it go: the sender is busy, the queue fills.
                release.Wait(TimeSpan.FromSeconds(20));
            }

            return (200, null);
        });
        await using var client = new WebhookClient(server.Url, new WebhookOptions { QueueCapacity = 2, InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(10) });
        Assert.True(client.TryEnqueue("{\"n\":0}"u8.ToArray(), "k0"));
        var clock = Stopwatch.StartNew();
        while (server.Started == 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        Assert.True(server.Started >= 1, "the first request reached the server");
        clock.Restart();
        int accepted = 0;
        for (int i = 1; i <= 10; i++)
        {
            accepted += client.TryEnqueue(Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), $"k{i}") ? 1 : 0;
        }

        TimeSpan enqueueTime = clock.Elapsed;
        Assert.Equal(2, accepted);
        Assert.Equal(8, client.Statistics.Dropped);
        Assert.True(enqueueTime < TimeSpan.FromMilliseconds(200), $"10 enqueues took {enqueueTime.TotalMilliseconds} ms while the server hung");
        release.Set();
        Assert.True(await client.CompleteAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(new WebhookStatistics(3, 3, 8, 0, 0, 0), client.Statistics);
        Assert.Equal("k0,k1,k2", string.Join(',', server.Requests.Select(r => r.Key)));
    }

    [Fact]
    public async Task ClientErrors_AreNotRetried_ServerErrorsStopAfterMaxAttempts_AndAnUnreachableUrlRetries()
    {
        using var server = new ScriptedServer(n => n == 0 ? (400, null) : (503, null));
        await using (var client = new WebhookClient(server.Url, new WebhookOptions { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(20) }))
        {
            client.TryEnqueue("{}"u8.ToArray(), "bad-request");
            client.TryEnqueue("{}"u8.ToArray(), "unavailable");
            Assert.True(await client.CompleteAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(new WebhookStatistics(2, 0, 0, 2, 2, 0), client.Statistics);
        }

        Assert.Equal("bad-request,unavailable,unavailable,unavailable", string.Join(',', server.Requests.Select(r => r.Key)));

        // Connection refused is a network error: retried, then given up.
        int closed = ScriptedServer.FreePort();
        await using var refused = new WebhookClient(new Uri($"http://127.0.0.1:{closed}/hook"), new WebhookOptions { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(20) });
        refused.TryEnqueue("{}"u8.ToArray());
        Assert.True(await refused.CompleteAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(new WebhookStatistics(1, 0, 0, 1, 2, 0), refused.Statistics);
        Assert.Throws<ArgumentException>(() => new WebhookClient(new Uri("ftp://127.0.0.1/x")));
    }

    [Fact]
    public void Backoff_IsFullJitterUnderTheDoublingCap_AndRetryAfterIsClamped()
    {
        using var client = new WebhookClient(new Uri("http://127.0.0.1:9/"), new WebhookOptions { InitialBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromSeconds(1), MaxRetryAfter = TimeSpan.FromSeconds(30), JitterSeed = 7 });
        for (int attempt = 2; attempt <= 10; attempt++)
        {
            double cap = Math.Min(1000, 100 * Math.Pow(2, attempt - 2));
            var waits = Enumerable.Range(0, 200).Select(_ => client.Backoff(attempt, null).TotalMilliseconds).ToList();
            Assert.All(waits, w => Assert.InRange(w, 0, cap));
            Assert.True(waits.Max() > cap * 0.8 && waits.Min() < cap * 0.2, $"attempt {attempt}: jitter spans [0, {cap}]");
        }

        Assert.Equal(TimeSpan.FromSeconds(3), client.Backoff(2, TimeSpan.FromSeconds(3)));
        Assert.Equal(TimeSpan.FromSeconds(30), client.Backoff(2, TimeSpan.FromHours(1)));
        Assert.Equal(TimeSpan.Zero, client.Backoff(2, TimeSpan.FromSeconds(-5)));
    }

    private sealed record Received(string? Key, byte[] Body, string? ContentType, int Status, TimeSpan At);

    /// <summary>An HttpListener on a loopback port answering request n with the status (and Retry-After) the script gives.</summary>
    private sealed class ScriptedServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Func<int, (int Status, string? RetryAfter)> _script;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Task _loop;
        private int _count;

        public ScriptedServer(Func<int, (int Status, string? RetryAfter)> script)
        {
            _script = script;
            int port = FreePort();
            Url = new Uri($"http://127.0.0.1:{port}/hook");
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public Uri Url { get; }

        public ConcurrentQueue<Received> Requests { get; } = new();

        public int Started => Volatile.Read(ref _count);

        public static int FreePort()
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return ((IPEndPoint)s.LocalEndPoint!).Port;
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
#pragma warning disable VSTHRD002 // The loop runs on the thread pool and ends once the listener stops.
            _loop.Wait(TimeSpan.FromSeconds(5));
#pragma warning restore VSTHRD002
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                // One at a time, in arrival order, as the client sends them.
                int n = Interlocked.Increment(ref _count) - 1;
                TimeSpan at = _clock.Elapsed;
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                (int status, string? retryAfter) = _script(n);
                Requests.Enqueue(new Received(context.Request.Headers["Idempotency-Key"], body.ToArray(), context.Request.ContentType, status, at));
                context.Response.StatusCode = status;
                if (retryAfter is not null)
                {
                    context.Response.AddHeader("Retry-After", retryAfter);
                }

                context.Response.Close();
            }
        }
    }
}
