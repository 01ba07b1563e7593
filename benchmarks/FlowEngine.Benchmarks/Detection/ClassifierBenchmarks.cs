// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Benchmarks.Flows;
using FlowEngine.Context;
using FlowEngine.Detection;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Detection;

/// <summary>
/// Classification per flow: the bundled lab capture's normal flows (those a first classifier raised nothing on),
/// with their VMs from the lab's inventory, through every rule of a <see cref="FlowClassifier"/>. Each invocation
/// replays them later in packet time by an irregular offset (so windows roll and no replay looks periodic).
/// Reported per flow; a flow that raises nothing allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class ClassifierBenchmarks
{
    // Flows of samples/data/lab-small.pcapng the classifier raises nothing on (checked in Setup).
    private const int NormalFlows = 492;

    private List<FlowRecord> _records = [];
    private List<VmIdentity> _identities = [];
    private FlowRecord[] _normal = [];
    private VmIdentity[] _normalIdentities = [];
    private FlowClassifier? _classifier;
    private long _offsetNs;
    private ulong _state = 0x9E3779B97F4A7C15UL;

    [GlobalSetup]
    public void Setup()
    {
        string path = LabCapture.Path;
        (_records, _identities) = LabFlowRecords.Load();

        var first = new FlowClassifier();
        var normal = new List<int>();
        for (int i = 0; i < _records.Count; i++)
        {
            VmIdentity v = _identities[i];
            FlowRecord r = _records[i];
            if (!first.Classify(new FlowObservation(in r, in v, default, default), out _))
            {
                normal.Add(i);
            }
        }

        _normal = [.. normal.Select(i => _records[i])];
        _normalIdentities = [.. normal.Select(i => _identities[i])];
        if (_normal.Length != NormalFlows)
        {
            throw new InvalidOperationException($"{path} gives {_normal.Length} normal flows; set NormalFlows to that");
        }

        _classifier = new FlowClassifier();
        // Past the first replays (the first creates every key; the second raises two DoS flows).
        for (int k = 0; k < 4; k++)
        {
            Classify();
        }
    }

    /// <summary>One classification per normal flow record (<see cref="NormalFlows"/> of them).</summary>
    /// <returns>Flows classified (0 expected).</returns>
    [Benchmark(OperationsPerInvoke = NormalFlows)]
    public int Classify()
    {
        // Log-uniform offsets between 1 and 30 hours (irregular; a million invocations stay far from overflow).
        _state ^= _state << 13;
        _state ^= _state >> 7;
        _state ^= _state << 17;
        _offsetNs += (long)(3.6e12 * Math.Pow(30, (_state >> 11) / (double)(1UL << 53)));
        int alerted = 0;
        for (int i = 0; i < _normal.Length; i++)
        {
            FlowRecord r = _normal[i];
            r.FirstNs += _offsetNs;
            r.LastNs += _offsetNs;
            alerted += _classifier!.Classify(new FlowObservation(in r, in _normalIdentities[i], default, default), out _) ? 1 : 0;
        }

        return alerted;
    }
}
