// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Threading.Channels;
using FlowEngine.Detection;

namespace FlowEngine.Export.Siem;

/// <summary>Counters of an alert sink, read at any time.</summary>
/// <param name="Queued">Alerts accepted into the queue.</param>
/// <param name="Sent">Messages written to the transport (a UDP datagram sent, a TCP frame or file line flushed, a webhook POST answered 2xx).</param>
/// <param name="Dropped">Alerts refused because the queue was full.</param>
/// <param name="Failed">Messages given up on (a UDP send error, a webhook request out of attempts or refused with a 4xx).</param>
/// <param name="Retries">Repeated attempts: TCP reconnects, webhook retries.</param>
public readonly record struct AlertSinkStatistics(long Queued, long Sent, long Dropped, long Failed, long Retries);

/// <summary>
/// An <see cref="IAlertSink"/> that formats each alert on the caller's thread into its wire bytes and hands them to a
/// bounded queue; one background task delivers them. <see cref="OnAlert"/> never blocks: when the queue is full the
/// alert is dropped and counted. <see cref="CompleteAsync"/> stops accepting and delivers what is queued.
/// </summary>
public abstract class QueuedAlertSink : IAlertSink, IAsyncDisposable, IDisposable
{
    private readonly Channel<byte[]> _queue;
    private readonly CancellationTokenSource _stop = new();
    private Task _worker = Task.CompletedTask;
    private long _queued;
    private long _sent;
    private long _dropped;
    private long _failed;
    private long _retries;
    private int _completed;

    /// <summary>Creates the queue; the derived constructor calls <see cref="Start"/> once its fields are set.</summary>
    /// <param name="capacity">Most alerts waiting.</param>
    protected QueuedAlertSink(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>The counters.</summary>
    public AlertSinkStatistics Statistics => new(Interlocked.Read(ref _queued), Interlocked.Read(ref _sent), Interlocked.Read(ref _dropped), Interlocked.Read(ref _failed), Interlocked.Read(ref _retries));

    /// <summary>How long <see cref="Dispose"/> and <see cref="DisposeAsync"/> wait for the queue to drain.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <inheritdoc/>
    public void OnAlert(in Alert alert)
    {
        byte[] message = Format(in alert);
        if (_queue.Writer.TryWrite(message))
        {
            Interlocked.Increment(ref _queued);
        }
        else
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Stops accepting alerts and waits for the queued ones to be delivered, at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>True when everything queued was handled (sent or failed) in time.</returns>
    public async Task<bool> CompleteAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _queue.Writer.TryComplete();
        }

        Task done = await Task.WhenAny(_worker, Task.Delay(timeout)).ConfigureAwait(false);
        if (done != _worker)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(_worker, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
            return false;
        }

        return true;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await CompleteAsync(DrainTimeout).ConfigureAwait(false);
        await DisposeTransportAsync().ConfigureAwait(false);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // Sync-over-async at shutdown only: the delivery task runs on the thread pool and never needs this thread.
#pragma warning disable VSTHRD002
        DisposeAsync().AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        GC.SuppressFinalize(this);
    }

    /// <summary>The wire bytes of one alert (a framed or unframed message).</summary>
    /// <param name="alert">The alert.</param>
    /// <returns>The bytes.</returns>
    protected abstract byte[] Format(in Alert alert);

    /// <summary>Delivers messages until the reader completes or <paramref name="cancel"/> fires; counts through the Count* methods.</summary>
    /// <param name="reader">The queue.</param>
    /// <param name="cancel">Fires when the drain time is over.</param>
    /// <returns>The task.</returns>
    protected abstract Task DeliverAsync(ChannelReader<byte[]> reader, CancellationToken cancel);

    /// <summary>Releases the transport after the delivery task has ended.</summary>
    /// <returns>The task.</returns>
    protected virtual ValueTask DisposeTransportAsync() => ValueTask.CompletedTask;

    /// <summary>Starts the delivery task: the last statement of the derived constructor, so the task sees its fields set.</summary>
    protected void Start() => _worker = Task.Run(GuardedDeliverAsync);

    // A delivery task that fails unexpectedly must not leave alerts queued forever unseen: they are counted as failed.
    private async Task GuardedDeliverAsync()
    {
        try
        {
            await DeliverAsync(_queue.Reader, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _queue.Writer.TryComplete(e);
            while (_queue.Reader.TryRead(out _))
            {
                CountFailed();
            }
        }
    }

    /// <summary>Counts messages delivered.</summary>
    /// <param name="n">How many.</param>
    protected void CountSent(long n = 1) => Interlocked.Add(ref _sent, n);

    /// <summary>Counts messages given up on.</summary>
    /// <param name="n">How many.</param>
    protected void CountFailed(long n = 1) => Interlocked.Add(ref _failed, n);

    /// <summary>Counts a retry or reconnect.</summary>
    protected void CountRetry() => Interlocked.Increment(ref _retries);
}
