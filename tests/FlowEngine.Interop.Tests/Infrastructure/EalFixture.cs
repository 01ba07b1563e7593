// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Interop.Dpdk;

namespace FlowEngine.Interop.Tests.Infrastructure;

/// <summary>The tests that need EAL share one: EAL can be initialised once per process.</summary>
[CollectionDefinition(Name)]
public sealed class EalCollection : ICollectionFixture<EalFixture>
{
    public const string Name = "EAL";
}

/// <summary>
/// EAL without hugepages or PCI (<c>--no-huge --no-pci --no-shconf</c>; 22.11 refuses <c>--in-memory</c> with
/// <c>--no-huge</c>), under a file prefix unique to the process, and one mempool with a data room large enough
/// for any captured frame. Virtual devices are attached per test.
/// </summary>
public sealed class EalFixture : IDisposable
{
    private int _devices;

    public EalFixture()
    {
        FilePrefix = "fe-test-" + Environment.ProcessId;
        try
        {
            Eal = DpdkEal.Initialize(
            [
                "--no-huge", "--no-pci", "--no-shconf", "--file-prefix=" + FilePrefix, "--no-telemetry",
                "-l", "0", "-m", "512", "--log-level=*:warning",
            ]);
        }
        catch (DpdkException e) when (e.Failure is DpdkFailure.ShimMissing or DpdkFailure.DpdkLibrariesMissing)
        {
            throw new InvalidOperationException("The native DPDK shim is needed by these tests: run 'make -C native' (needs libdpdk-dev), then rebuild. " + e.Message, e);
        }

        Pool = Eal.CreateMempool("fe-test-pool", 2047, dataRoomBytes: 65535, cacheSize: 64);
    }

    public DpdkEal Eal { get; }

    public string FilePrefix { get; }

    /// <summary>Buffers of 65535 bytes: no captured frame needs a second segment.</summary>
    public DpdkMempool Pool { get; }

    /// <summary>A device name not used before in this process (a detached name could be reused, but fresh names keep failures apart).</summary>
    public string NextDeviceName(string driver) => driver + Interlocked.Increment(ref _devices);

    public void Dispose()
    {
        Pool.Dispose();
        Eal.Dispose();
        try
        {
            Directory.Delete(Path.Combine("/var/run/dpdk", FilePrefix), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
