// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Capture;
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

    private readonly List<FlowRecord> _records = [];
    private readonly List<VmIdentity> _identities = [];
    private ProfileStore? _store;

    [GlobalSetup]
    public void Setup()
    {
        string path = LabCapture.Path;
        var vms = new VmIdentityTable(VmInventory.Load(Path.Combine(Path.GetDirectoryName(path)!, "lab-small.inventory.csv")));
        using (CaptureFileReader reader = CaptureFile.Open(path))
        using (var pipeline = new FlowPipeline<VmIdentityExtension>(new Collect(this, vms), new FlowPipelineOptions(), new VmIdentityExtension(vms)))
        {
            pipeline.Run(reader);
        }

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

    private sealed class Collect(ProfileBenchmarks owner, VmIdentityTable vms) : IFlowSink
    {
        public void OnFlows(ReadOnlySpan<FlowRecord> records)
        {
            for (int i = 0; i < records.Length; i++)
            {
                owner._records.Add(records[i]);
                owner._identities.Add(vms.ForRecord(i));
            }
        }

        public void Flush()
        {
        }

        public void Complete()
        {
        }
    }
}
