// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net.Http.Headers;
using System.Threading.Channels;

namespace FlowEngine.Export.Siem;

/// <summary>Settings of a <see cref="WebhookClient"/>.</summary>
public sealed class WebhookOptions
{
    /// <summary>Most requests waiting; further ones are dropped and counted.</summary>
    public int QueueCapacity { get; init; } = 1024;

    /// <summary>Most attempts per request, the first included.</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>The backoff before the first retry; it doubles per attempt up to <see cref="MaxBackoff"/>, with full jitter.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest backoff.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait a Retry-After header may ask for (longer ones are cut to this).</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Most time one request may take.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The body's media type.</summary>
    public string ContentType { get; init; } = "application/json";

    /// <summary>Extra request headers (e.g. Authorization).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Seed of the jitter (null: random).</summary>
    public int? JitterSeed { get; init; }

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialBackoff, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryAfter, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero);
    }
}

/// <summary>Counters of a <see cref="WebhookClient"/>.</summary>
/// <param name="Queued">Requests accepted.</param>
/// <param name="Delivered">Requests answered 2xx.</param>
/// <param name="Dropped">Requests refused because the queue was full.</param>
/// <param name="Failed">Requests given up on: out of attempts, or refused with a status that a retry cannot change (4xx other than 408, 425, 429).</param>
/// <param name="Retries">Attempts after the first.</param>
/// <param name="RetryAfterHonoured">Waits taken from a Retry-After header.</param>
public readonly record struct WebhookStatistics(long Queued, long Delivered, long Dropped, long Failed, long Retries, long RetryAfterHonoured);

/// <summary>
/// JSON POSTs to one URL with retries, for alerts and for mitigation hooks alike. <see cref="TryEnqueue"/> never blocks:
/// a bounded queue takes the request or counts a drop. One background task sends them in order; a request that fails
/// with a network error, a timeout, 408, 425, 429 or 5xx is retried after an exponential backoff with full jitter
/// (uniform in [0, min(max, initial x 2^(attempt-1))]), or after the server's Retry-After (seconds or an HTTP date)
/// when it gives one. A request answered 2xx is never sent again; each carries an <c>Idempotency-Key</c> header when
/// given one, so a receiver can drop the duplicate of a request whose answer was lost.
/// </summary>
public sealed class WebhookClient : IAsyncDisposable, IDisposable
{
    private readonly Channel<Request> _queue;
    private readonly HttpClient _http;
    private readonly WebhookOptions _options;
    private readonly Random _jitter;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private long _queued;
    private long _delivered;
    private long _dropped;
    private long _failed;
    private long _retries;
    private long _retryAfter;

    /// <summary>Creates a client and starts its sender.</summary>
    /// <param name="url">The http:// or https:// URL.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="handler">The HTTP handler (null: a new <see cref="SocketsHttpHandler"/>); disposed with the client.</param>
    /// <exception cref="ArgumentException">The URL is not absolute http or https.</exception>
    public WebhookClient(Uri url, WebhookOptions? options = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"'{url}' is not an http:// or https:// URL", nameof(url));
        }

        _options = options ?? new WebhookOptions();
        _options.Validate();
        Url = url;
        _jitter = _options.JitterSeed is int seed ? new Random(seed) : new Random();
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(_options.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _worker = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>The URL posted to.</summary>
    public Uri Url { get; }

    /// <summary>The counters.</summary>
    public WebhookStatistics Statistics => new(
        Interlocked.Read(ref _queued), Interlocked.Read(ref _delivered), Interlocked.Read(ref _dropped), Interlocked.Read(ref _failed), Interlocked.Read(ref _retries), Interlocked.Read(ref _retryAfter));

    /// <summary>Requests waiting in the queue.</summary>
    public int QueueDepth => _queue.Reader.Count;

    /// <summary>Queues one POST; never blocks.</summary>
    /// <param name="body">The body (kept by reference until sent: do not reuse the memory).</param>
    /// <param name="idempotencyKey">Sent as the Idempotency-Key header; null for none.</param>
    /// <returns>False when the queue was full (or the client completed) and the request was dropped.</returns>
    public bool TryEnqueue(ReadOnlyMemory<byte> body, string? idempotencyKey = null)
    {
        if (_queue.Writer.TryWrite(new Request(body, idempotencyKey)))
        {
            Interlocked.Increment(ref _queued);
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Stops accepting requests and waits for the queued ones, at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>True when every queued request was delivered or given up on in time.</returns>
    public async Task<bool> CompleteAsync(TimeSpan timeout)
    {
        _queue.Writer.TryComplete();
        Task done = await Task.WhenAny(_worker, Task.Delay(timeout)).ConfigureAwait(false);
        if (done == _worker)
        {
            return true;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAny(_worker, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        return false;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await CompleteAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _http.Dispose();
        _stop.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // Shutdown only: the sender runs on the thread pool and never needs this thread.
#pragma warning disable VSTHRD002
        DisposeAsync().AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> (2 or more) with full jitter, or the server's Retry-After.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is TimeSpan asked)
        {
            return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > _options.MaxRetryAfter ? _options.MaxRetryAfter : asked;
        }

        double cap = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt - 2));
        double ms;
        lock (_jitter)
        {
            ms = _jitter.NextDouble() * cap;
        }

        return TimeSpan.FromMilliseconds(ms);
    }

    private async Task RunAsync(CancellationToken cancel)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(cancel).ConfigureAwait(false))
            {
                while (_queue.Reader.TryRead(out Request request))
                {
                    await SendAsync(request, cancel).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            while (_queue.Reader.TryRead(out _))
            {
                Interlocked.Increment(ref _failed);
            }
        }
    }

    private async Task SendAsync(Request request, CancellationToken cancel)
    {
        for (int attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            bool retryable;
            try
            {
                using var message = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ReadOnlyMemoryContent(request.Body) };
                message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(_options.ContentType);
                if (request.Key is string key)
                {
                    message.Headers.TryAddWithoutValidation("Idempotency-Key", key);
                }

                foreach (KeyValuePair<string, string> h in _options.Headers)
                {
                    message.Headers.TryAddWithoutValidation(h.Key, h.Value);
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                timeout.CancelAfter(_options.RequestTimeout);
                using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status is >= 200 and < 300)
                {
                    Interlocked.Increment(ref _delivered);
                    return;
                }

                retryable = status is 408 or 425 or 429 || status >= 500;
                retryAfter = RetryAfter(response);
            }
            catch (HttpRequestException)
            {
                retryable = true;
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                // The request's own timeout.
                retryable = true;
            }

            if (!retryable || attempt >= _options.MaxAttempts)
            {
                Interlocked.Increment(ref _failed);
                return;
            }

            if (retryAfter is not null)
            {
                Interlocked.Increment(ref _retryAfter);
            }

            Interlocked.Increment(ref _retries);
            await Task.Delay(Backoff(attempt + 1, retryAfter), cancel).ConfigureAwait(false);
        }
    }

    // Retry-After: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3).
    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        RetryConditionHeaderValue? h = response.Headers.RetryAfter;
        if (h?.Delta is TimeSpan delta)
        {
            return delta;
        }

        if (h?.Date is DateTimeOffset date)
        {
            return date - DateTimeOffset.UtcNow;
        }

        // A value HttpClient could not parse (e.g. a fraction): read the digits.
        if (response.Headers.TryGetValues("Retry-After", out IEnumerable<string>? raw)
            && double.TryParse(raw.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return null;
    }

    private readonly record struct Request(ReadOnlyMemory<byte> Body, string? Key);
}
