// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>
/// Reads every VM of an <see cref="IVmStateProvider"/> into a <see cref="VmStateStore"/> periodically (1 s by default)
/// on a background thread of its own, and optionally records each sample to a <see cref="VmStateTimelineWriter"/>.
/// Never throws into the host: a failed read or a provider that throws is counted and the round goes on.
/// </summary>
/// <example>
/// <code>
/// var store = new VmStateStore();
/// using var provider = new CgroupV2StateProvider(libvirtRoot: "/sys/fs/cgroup");   // FlowEngine.Interop.VmState
/// using var sampler = new VmStateSampler(provider, store);
/// sampler.Start();
/// // on any worker: store.TryGetState(vm.Name, packetTimeNs, out VmResourceState s)
/// </code>
/// </example>
public sealed class VmStateSampler : IDisposable
{
    private readonly IVmStateProvider _provider;
    private readonly VmStateStore _store;
    private readonly VmStateTimelineWriter? _timeline;
    private readonly TimeProvider _time;
    private readonly Lock _control = new();
    private readonly AutoResetEvent _wake = new(false);
    private int[] _storeIndexes = [];
    private IReadOnlyList<string>? _mappedNames;
    private Thread? _thread;
    private volatile bool _stopping;
    private long _nextRefreshNs;
    private long _rounds, _samples, _readFailures, _providerExceptions, _storeRejections, _timelineErrors;
    private bool _disposed;

    /// <summary>A sampler of <paramref name="provider"/> into <paramref name="store"/>.</summary>
    /// <param name="provider">Where samples come from (called only from the sampler's thread, or from <see cref="SampleOnce"/>).</param>
    /// <param name="store">Where they go.</param>
    /// <param name="interval">Time between rounds; 1 s when null.</param>
    /// <param name="timeline">Where each sample is also recorded, or null; the sampler flushes it each round and does not dispose it.</param>
    /// <param name="timeProvider">The clock that stamps samples; the system's when null.</param>
    public VmStateSampler(IVmStateProvider provider, VmStateStore store, TimeSpan? interval = null,
        VmStateTimelineWriter? timeline = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(store);
        Interval = interval ?? TimeSpan.FromSeconds(1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Interval, TimeSpan.FromMilliseconds(1));
        _provider = provider;
        _store = store;
        _timeline = timeline;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Time between rounds.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Time between the provider's <see cref="IVmStateProvider.Refresh"/> calls (VMs started or stopped); 10 s by default.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Rounds completed.</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>Samples read and stored.</summary>
    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>Reads the provider reported as failed (a VM gone, files missing or malformed).</summary>
    public long ReadFailures => Interlocked.Read(ref _readFailures);

    /// <summary>Exceptions the provider threw (from a read or a refresh); each is caught and counted.</summary>
    public long ProviderExceptions => Interlocked.Read(ref _providerExceptions);

    /// <summary>Samples the store refused (not newer than the latest, or the store full).</summary>
    public long StoreRejections => Interlocked.Read(ref _storeRejections);

    /// <summary>Failures to write the timeline (after the first, the timeline is no longer written).</summary>
    public long TimelineErrors => Interlocked.Read(ref _timelineErrors);

    /// <summary>The last exception the provider or the timeline threw, for diagnostics; null when none.</summary>
    public Exception? LastException { get; private set; }

    /// <summary>Whether the background thread runs.</summary>
    public bool IsRunning => _thread is not null;

    /// <summary>Starts the background thread; its first round runs at once. Does nothing when it runs already.</summary>
    public void Start()
    {
        lock (_control)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_thread is not null)
            {
                return;
            }

            _stopping = false;
            _thread = new Thread(Run) { IsBackground = true, Name = "FlowEngine VM state sampler" };
            _thread.Start();
        }
    }

    /// <summary>Stops the background thread and waits for its round to end. Does nothing when it does not run.</summary>
    public void Stop()
    {
        Thread? thread;
        lock (_control)
        {
            thread = _thread;
            if (thread is null)
            {
                return;
            }

            _stopping = true;
            _wake.Set();
        }

        thread.Join();
        lock (_control)
        {
            _thread = null;
        }
    }

    /// <summary>
    /// One round on the caller's thread: refreshes the provider when due, reads every VM and stores the samples. Call it
    /// only while the background thread is not running (deterministic sampling, tests).
    /// </summary>
    /// <returns>The samples stored in this round.</returns>
    public int SampleOnce()
    {
        int stored = 0;
        long now = NowNs();
        if (_mappedNames is null || now >= _nextRefreshNs)
        {
            try
            {
                _provider.Refresh();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Fail(ref _providerExceptions, e);
            }

            _nextRefreshNs = now + RefreshInterval.Ticks * 100;
        }

        IReadOnlyList<string> names = _provider.VmNames;
        if (!ReferenceEquals(names, _mappedNames))
        {
            MapNames(names);
        }

        for (int i = 0; i < _storeIndexes.Length; i++)
        {
            long timeNs = NowNs();
            bool read;
            VmResourceSample sample;
            try
            {
                read = _provider.TryRead(i, timeNs, out sample);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Fail(ref _providerExceptions, e);
                continue;
            }

            if (!read)
            {
                Interlocked.Increment(ref _readFailures);
                continue;
            }

            int index = _storeIndexes[i];
            if (index < 0 || !_store.Push(index, in sample))
            {
                Interlocked.Increment(ref _storeRejections);
                continue;
            }

            stored++;
            Interlocked.Increment(ref _samples);
            Record(names[i], in sample);
        }

        if (_timeline is not null && Interlocked.Read(ref _timelineErrors) == 0)
        {
            try
            {
                _timeline.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                Fail(ref _timelineErrors, e);
            }
        }

        Interlocked.Increment(ref _rounds);
        return stored;
    }

    /// <summary>Stops the thread; the provider, store and timeline stay the caller's.</summary>
    public void Dispose()
    {
        Stop();
        lock (_control)
        {
            if (!_disposed)
            {
                _disposed = true;
                _wake.Dispose();
            }
        }
    }

    private void Run()
    {
        long intervalTicks = Interval.Ticks;
        long next = _time.GetTimestamp();
        while (!_stopping)
        {
            try
            {
                SampleOnce();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The store and the counters do not throw; this keeps a bug in them from killing the host.
                Fail(ref _providerExceptions, e);
            }

            next += (long)(intervalTicks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
            long now = _time.GetTimestamp();
            if (next <= now)
            {
                next = now; // Late (a slow provider, a suspended machine): start again from now rather than catch up.
                continue;
            }

            TimeSpan wait = _time.GetElapsedTime(now, next);
            _wake.WaitOne(wait);
        }
    }

    private void MapNames(IReadOnlyList<string> names)
    {
        var indexes = new int[names.Count];
        for (int i = 0; i < indexes.Length; i++)
        {
            indexes[i] = _store.Register(names[i]);
        }

        _storeIndexes = indexes;
        _mappedNames = names;
    }

    private void Record(string vmName, in VmResourceSample sample)
    {
        if (_timeline is null || Interlocked.Read(ref _timelineErrors) != 0)
        {
            return;
        }

        try
        {
            _timeline.Write(vmName, in sample);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            Fail(ref _timelineErrors, e);
        }
    }

    private void Fail(ref long counter, Exception e)
    {
        Interlocked.Increment(ref counter);
        LastException = e;
    }

    private long NowNs() => (_time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
}
