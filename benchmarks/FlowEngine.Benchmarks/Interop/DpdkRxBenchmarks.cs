// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Interop.Dpdk;

namespace FlowEngine.Benchmarks.Interop;

/// <summary>
/// The managed RX path over DPDK's <c>net_null</c> PMD, bursts of 32, reported per packet: the interop crossing
/// alone (<see cref="DpdkPacketSource.ReadBatch"/>: one rte_eth_rx_burst through the shim plus the bulk free of
/// the previous burst), and receive, decode and flow update (<see cref="FlowPipeline.ProcessBatch"/>).
/// </summary>
/// <remarks>
/// net_null hands out freshly allocated mbufs of 64 bytes without writing them, so each frame is whatever its
/// buffer last held. Setup holds every buffer of the pool once and writes an IPv4/UDP frame into it (1024 flows
/// by source port), so the decoder and flow table see real traffic. EAL runs without hugepages (--no-huge), on
/// the benchmark process's thread; see <see cref="LcoreCache"/>.
/// </remarks>
[MemoryDiagnoser]
public class DpdkRxBenchmarks : IDisposable
{
    private const int Burst = 32;
    private const int BurstsPerInvoke = 1024;
    private const int PoolBuffers = 4095;
    private const int FrameBytes = 64;
    private const int Flows = 1024;

    private DpdkEal _eal = null!;
    private DpdkMempool _pool = null!;
    private DpdkPort _port = null!;
    private DpdkPacketSource _source = null!;
    private PacketBatch _batch = null!;
    private FlowPipeline _pipeline = null!;
    private string _prefix = string.Empty;

    /// <summary>
    /// False: the benchmark thread is not an EAL lcore, so every allocation and free goes to the mempool's ring.
    /// True: the thread is registered as a (non-EAL) lcore and the pool has a 256-buffer per-lcore cache.
    /// </summary>
    [Params(false, true)]
    public bool LcoreCache { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // BenchmarkDotNet does not run the cleanup after a failed setup: release EAL and its run directory here.
        try
        {
            SetupCore();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void SetupCore()
    {
        _prefix = "fe-bench-" + Environment.ProcessId;
        _eal = DpdkEal.Initialize(["--no-huge", "--no-pci", "--no-shconf", "--file-prefix=" + _prefix, "--no-telemetry", "-l", "0", "-m", "256", "--log-level=*:warning"]);
        if (LcoreCache)
        {
            // BenchmarkDotNet runs the setup and the iterations on the same thread.
            DpdkEal.RegisterCurrentThread();
        }

        _pool = _eal.CreateMempool("fe-bench", PoolBuffers, cacheSize: LcoreCache ? 256 : 0);
        _port = _eal.AttachVirtualDevice("net_null0", $"size={FrameBytes},copy=0");
        _port.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1, Rss = false, Promiscuous = false, DriverTimestamps = false }, _pool);
        _port.Start();
        WriteFramesIntoEveryBuffer();
        _source = _port.CreateSource(0, Burst);
        _batch = new PacketBatch(Burst);
        _pipeline = new FlowPipeline(new CountingSink(), new FlowPipelineOptions { BatchSize = Burst, Flows = new FlowTableOptions { MaxFlows = Flows * 4 } });
        for (int i = 0; i < BurstsPerInvoke; i++)
        {
            if (!_source.ReadBatch(_batch) || _batch.Count != Burst)
            {
                throw new InvalidOperationException($"net_null gave a burst of {_batch.Count}, not {Burst}");
            }

            _pipeline.ProcessBatch(_batch);
        }

        if (_pipeline.Statistics.PacketsDecoded != (long)BurstsPerInvoke * Burst)
        {
            throw new InvalidOperationException($"{_pipeline.Statistics.PacketsDecoded} of {BurstsPerInvoke * Burst} frames decoded");
        }

        // BDN divides allocated bytes by OperationsPerInvoke (32768), so a small allocation per invocation would
        // read as 0 B: count exactly over one invocation of each benchmark instead, warm, and refuse to run if any.
        long before = GC.GetAllocatedBytesForCurrentThread();
        RxBurstAndFree();
        ReceiveDecodeFlowUpdate();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated != 0)
        {
            throw new InvalidOperationException($"the RX path allocated {allocated} B in one invocation of each benchmark");
        }
    }

    /// <summary>rx burst of 32 through the shim, and the bulk free of the previous burst.</summary>
    /// <returns>Frames received.</returns>
    [Benchmark(OperationsPerInvoke = BurstsPerInvoke * Burst)]
    public int RxBurstAndFree()
    {
        int frames = 0;
        for (int i = 0; i < BurstsPerInvoke; i++)
        {
            _source.ReadBatch(_batch);
            frames += _batch.Count;
        }

        return frames;
    }

    /// <summary>The same, then decode and flow update of each burst.</summary>
    /// <returns>Packets accounted so far.</returns>
    [Benchmark(OperationsPerInvoke = BurstsPerInvoke * Burst)]
    public long ReceiveDecodeFlowUpdate()
    {
        for (int i = 0; i < BurstsPerInvoke; i++)
        {
            _source.ReadBatch(_batch);
            _pipeline.ProcessBatch(_batch);
        }

        return _pipeline.Table.Statistics.Packets;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _source?.Dispose();
        _port?.Dispose();
        if (LcoreCache && DpdkEal.CurrentLcoreId() >= 0)
        {
            DpdkEal.UnregisterCurrentThread();
        }

        _pipeline?.Dispose();
        _pool?.Dispose();
        _eal?.Dispose();
        try
        {
            Directory.Delete(Path.Combine("/var/run/dpdk", _prefix), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        GC.SuppressFinalize(this);
    }

    private void WriteFramesIntoEveryBuffer()
    {
        // One source per burst keeps its burst until disposed: together they hold the whole pool.
        var holders = new List<DpdkPacketSource>();
        var batch = new PacketBatch(Burst);
        int written = 0;
        try
        {
            while (written < PoolBuffers)
            {
                // net_null allocates a burst in bulk, all or nothing: the last burst asks for exactly the rest.
                DpdkPacketSource holder = _port.CreateSource(0, Math.Min(Burst, PoolBuffers - written));
                holders.Add(holder);
                holder.ReadBatch(batch);
                if (batch.Count == 0)
                {
                    break;
                }

                for (int i = 0; i < batch.Count; i++, written++)
                {
                    // The frame is this process's mbuf, held until the holder is disposed: writing it is allowed.
                    ReadOnlySpan<byte> frame = batch.GetFrame(i);
                    WriteFrame(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(frame), frame.Length), (ushort)(1024 + (written % Flows)));
                }
            }
        }
        finally
        {
            foreach (DpdkPacketSource holder in holders)
            {
                holder.Dispose();
            }
        }

        if (written != PoolBuffers)
        {
            throw new InvalidOperationException($"only {written} of {PoolBuffers} buffers were written");
        }
    }

    private static void WriteFrame(Span<byte> frame, ushort sourcePort)
    {
        int o = FrameBuilder.WriteEthernet(frame, 0x0200_0000_0002, 0x0200_0000_0001, 0, 0x0800);
        o += FrameBuilder.WriteIPv4(frame[o..], 0x0A00_0001, 0x0A00_0002, 17, FrameBytes - 14, 1, 64);
        FrameBuilder.WriteUdp(frame[o..], sourcePort, 53, FrameBytes - 14 - 20);
    }
}
