// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;

namespace FlowEngine.Benchmarks.Flows;

/// <summary>
/// The profile update per flow: every record of the bundled lab capture, with its VMs from the lab's inventory,
/// observed by a <see cref="ProfileStore"/> (both VMs' profiles and the network's). Reported per flow; no allocation
/// once the profiles exist.
/// </summary>
[MemoryDiagnoser]
public class ProfileBenchmarks
{
    // Flow records of samples/data/lab-small.pcapng with the default table (checked in Setup).
    private const int LabFlows = 2025;

    private List<FlowRecord> _records = [];
    private List<VmIdentity> _identities = [];
    private ProfileStore? _store;

    [GlobalSetup]
    public void Setup()
    {
        string path = LabCapture.Path;
        (_records, _identities) = LabFlowRecords.Load();

        if (_records.Count != LabFlows)
        {
            throw new InvalidOperationException($"{path} gives {_records.Count} flows; set LabFlows to that");
        }

        _store = new ProfileStore();
        Observe();
    }

    /// <summary>One profile update per flow record.</summary>
    [Benchmark(OperationsPerInvoke = LabFlows)]
    public int Observe()
    {
        int newPeers = 0;
        for (int i = 0; i < _records.Count; i++)
        {
            VmIdentity identity = _identities[i];
            newPeers += _store!.Observe(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_records)[i], in identity, default).NewPeer ? 1 : 0;
        }

        return newPeers;
    }
}
