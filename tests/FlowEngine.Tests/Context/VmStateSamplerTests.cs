// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Context;

namespace FlowEngine.Tests.Context;

public class VmStateSamplerTests
{
    [Fact]
    public void SampleOnce_StoresEveryVmAndCountsFailuresAndExceptions()
    {
        var provider = new ScriptedProvider(["ok", "fails", "throws"]);
        var store = new VmStateStore();
        var text = new StringWriter();
        using var timeline = new VmStateTimelineWriter(text);
        using var sampler = new VmStateSampler(provider, store, timeline: timeline);

        Assert.Equal(1, sampler.SampleOnce());
        Assert.Equal(1, sampler.SampleOnce());
        Assert.Equal(2, sampler.Rounds);
        Assert.Equal(2, sampler.Samples);
        Assert.Equal(2, sampler.ReadFailures);
        Assert.Equal(2, sampler.ProviderExceptions);
        Assert.IsType<InvalidDataException>(sampler.LastException);
        Assert.Equal(1, provider.Refreshes); // Refreshed once within RefreshInterval.
        Assert.True(store.TryGetState("ok", 0, out VmResourceState s));
        Assert.True(s.Has(VmResourceFields.Cpu));
        Assert.Equal(-1, store.IndexOf("nope"));
        Assert.Equal(3, text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // Header and two samples.
    }

    [Fact]
    public void RefreshThatThrows_IsCountedAndSamplingGoesOn()
    {
        var provider = new ScriptedProvider(["ok"]) { RefreshThrows = true };
        using var sampler = new VmStateSampler(provider, new VmStateStore());
        Assert.Equal(1, sampler.SampleOnce());
        Assert.Equal(1, sampler.ProviderExceptions);
    }

    [Fact]
    public void Start_SamplesPeriodicallyOnItsThread_StopJoins()
    {
        var provider = new ScriptedProvider(["ok"]);
        var store = new VmStateStore();
        using var sampler = new VmStateSampler(provider, store, TimeSpan.FromMilliseconds(20));
        sampler.Start();
        Assert.True(sampler.IsRunning);
        Assert.True(provider.ReadAtLeast.Wait(TimeSpan.FromSeconds(10)), "the sampler did not take 5 rounds in 10 s");
        sampler.Stop();
        Assert.False(sampler.IsRunning);
        long rounds = sampler.Rounds;
        Assert.True(rounds >= 5);
        Assert.NotEqual(Environment.CurrentManagedThreadId, provider.ReadThread);
        Assert.Equal("FlowEngine VM state sampler", provider.ReadThreadName);
        Assert.Equal(rounds, sampler.Rounds); // Stopped: no more rounds.
        sampler.Dispose();
        Assert.Throws<ObjectDisposedException>(sampler.Start);
    }

    [Fact]
    public void Samples_AreStampedWithTheClockInUnixNanoseconds()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 23, 0, 0, TimeSpan.Zero));
        var store = new VmStateStore();
        using var sampler = new VmStateSampler(new ScriptedProvider(["ok"]), store, timeProvider: clock);
        sampler.SampleOnce();
        clock.Now += TimeSpan.FromSeconds(1);
        sampler.SampleOnce();
        Assert.True(store.TryGetSamples(store.IndexOf("ok"), out VmResourceSample prev, out bool hasPrev, out VmResourceSample latest));
        Assert.True(hasPrev);
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 23, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1_000_000, prev.TimeNs);
        Assert.Equal(1_000_000_000, latest.TimeNs - prev.TimeNs);
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class ScriptedProvider(string[] names) : IVmStateProvider
    {
        private long _cpu;
        private int _reads;

        public IReadOnlyList<string> VmNames { get; } = names;

        public int Refreshes { get; private set; }

        public bool RefreshThrows { get; init; }

        public int ReadThread { get; private set; }

        public string? ReadThreadName { get; private set; }

        public ManualResetEventSlim ReadAtLeast { get; } = new();

        public void Refresh()
        {
            Refreshes++;
            if (RefreshThrows)
            {
                throw new IOException("refresh failed");
            }
        }

        public bool TryRead(int index, long timeNs, out VmResourceSample sample)
        {
            ReadThread = Environment.CurrentManagedThreadId;
            ReadThreadName = Thread.CurrentThread.Name;
            if (Interlocked.Increment(ref _reads) >= 5)
            {
                ReadAtLeast.Set();
            }

            switch (VmNames[index])
            {
                case "fails":
                    sample = default;
                    return false;
                case "throws":
                    throw new InvalidDataException("broken provider");
                default:
                    _cpu += 1_000_000;
                    sample = new VmResourceSample(timeNs, VmResourceFields.Cpu, _cpu, 0, 0, 0);
                    return true;
            }
        }
    }
}
