// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FlowEngine.Benchmarks.Pipeline;
using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Interop.Dpdk;
using FlowEngine.Interop.Testing;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Interop;

/// <summary>
/// The managed DPDK RX path, bursts of 32, reported per packet, each category against its own baseline in one run:
/// <list type="bullet">
/// <item><c>Crossing</c> (<c>net_null</c>): the receive-and-free loop of a C program (<c>fe_bench_rx_free_loop</c>:
/// rte_eth_rx_burst, rte_pktmbuf_free_bulk) as the baseline; the same loop in C through the shim's own burst code
/// (descriptors written, free folded in); and the managed loop (<see cref="DpdkPacketSource.ReadBatch"/>, one
/// native call a burst). Managed minus the C loop is the interop overhead per packet.</item>
/// <item><c>FullPath</c> (<c>net_pcap</c>, <c>infinite_rx=1</c>, over samples/data/default.pcapng): receive,
/// decode and flow update of every burst, against the file-reader pipeline
/// (<see cref="FlowPipeline{TExtension}.ProcessBatch"/>) over batches of the same packets, in the same order,
/// already in memory; and the PMD's own receive-and-free loop in C, which copies every frame. Then the same
/// packets replayed without copies by a ring port (<c>net_ring</c>, one rte_ring as its RX and TX queue): setup
/// copies each frame of the file batches into its own mbuf once, stamped with its capture timestamp, and queues
/// them; each burst is received, decoded and accounted, then sent back into the ring
/// (<see cref="DpdkPacketSource.TransmitHeld"/>), so the loop recycles its buffers: no allocation, free or copy
/// per packet, one native call to receive and one to send a burst; beside it, the same receive-and-send-back
/// loop in C (<c>fe_bench_rx_tx_loop</c>), the ring port's own share.</item>
/// <item><c>NullPath</c>: receive, decode and flow update on <c>net_null</c>, one flow table of 1024 UDP flows.</item>
/// </list>
/// </summary>
/// <remarks>
/// net_null hands out freshly allocated mbufs of 64 bytes without writing them, so each frame is whatever its
/// buffer last held: setup holds every buffer of its pool once and writes an IPv4/UDP frame into it (1024 flows by
/// source port). EAL takes 2 MiB hugepages when the host has 256 MiB of them free (as DPDK is deployed; reserve them
/// with <c>echo 160 &gt; /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages</c>), else runs on 4 KiB pages
/// (--no-huge), which costs the mbuf paths a TLB miss on most buffers; the benchmark thread is registered as an lcore and both
/// pools have a 256-buffer per-lcore cache, as <see cref="FlowEngine.Interop.Threading.MultiQueueRunner"/>'s
/// workers have. Timeouts of an hour keep both full paths from expiring flows: the file batches replay the
/// capture's own timestamps, net_pcap's replay is stamped with the host clock.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public unsafe class DpdkRxBenchmarks : IDisposable
{
    private const string Crossing = "Crossing";
    private const string FullPath = "FullPath";
    private const string NullPath = "NullPath";
    private const int Burst = 32;
    private const int BurstsPerInvoke = 1024;
    private const int Operations = BurstsPerInvoke * Burst;
    private const int PoolBuffers = 4095;
    private const int FrameBytes = 64;
    private const int Flows = 1024;
    private const long EalMemoryBytes = 256L << 20;

    private DpdkEal _eal = null!;
    private DpdkMempool _nullPool = null!;
    private DpdkMempool _pcapPool = null!;
    private DpdkPort _nullPort = null!;
    private DpdkPort _pcapPort = null!;
    private DpdkMempool _ringPool = null!;
    private DpdkPort _ringPort = null!;
    private DpdkPacketSource _ringSource = null!;
    private FlowPipeline _ringPipeline = null!;
    private long _ringNotSent;
    private DpdkPacketSource _nullSource = null!;
    private DpdkPacketSource _pcapSource = null!;
    private PacketBatch _batch = null!;
    private FlowPipeline _nullPipeline = null!;
    private FlowPipeline _pcapPipeline = null!;
    private FlowPipeline _filePipeline = null!;
    private PacketBatch[] _fileBatches = [];
    private int _nextFileBatch;
    private string _prefix = string.Empty;
    private bool _registered;

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

    /// <summary>Baseline of <c>Crossing</c>: rte_eth_rx_burst and rte_pktmbuf_free_bulk of each burst, looped in C.</summary>
    /// <returns>Frames received.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    [BenchmarkCategory(Crossing)]
    public long RxFreeLoopInC() => BenchShim.BenchRxFreeLoop((ushort)_nullPort.PortId, 0, Burst, BurstsPerInvoke, 0);

    /// <summary>The same loop in C through the shim's burst code: free folded into the receive, descriptors written.</summary>
    /// <returns>Frames received.</returns>
    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory(Crossing)]
    public long RxBurstLoopInC() => BenchShim.BenchRxFreeLoop((ushort)_nullPort.PortId, 0, Burst, BurstsPerInvoke, 1);

    /// <summary>The managed loop: <see cref="DpdkPacketSource.ReadBatch"/> (free of the previous burst and receive, one native call).</summary>
    /// <returns>Frames received.</returns>
    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory(Crossing)]
    public int RxBurstAndFree()
    {
        int frames = 0;
        for (int i = 0; i < BurstsPerInvoke; i++)
        {
            _nullSource.ReadBatch(_batch);
            frames += _batch.Count;
        }

        return frames;
    }

    /// <summary>Baseline of <c>FullPath</c>: the file-reader pipeline over batches of the capture's packets in memory.</summary>
    /// <returns>Packets accounted so far.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    [BenchmarkCategory(FullPath)]
    public long FileReaderPipeline()
    {
        int next = _nextFileBatch;
        for (int i = 0; i < BurstsPerInvoke; i++)
        {
            _filePipeline.ProcessBatch(_fileBatches[next]);
            next = next + 1 == _fileBatches.Length ? 0 : next + 1;
        }

        _nextFileBatch = next;
        return _filePipeline.Table.Statistics.Packets;
    }

    /// <summary>The same packets replayed by net_pcap: receive, decode and flow update of each burst.</summary>
    /// <returns>Packets accounted so far.</returns>
    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory(FullPath)]
    public long PcapReceiveDecodeFlowUpdate()
    {
        for (int i = 0; i < BurstsPerInvoke; i++)
        {
            _pcapSource.ReadBatch(_batch);
            _pcapPipeline.ProcessBatch(_batch);
        }

        return _pcapPipeline.Table.Statistics.Packets;
    }

    /// <summary>net_pcap's own cost: its receive (an mbuf allocated and the frame copied, each packet) and free, looped in C.</summary>
    /// <returns>Frames received.</returns>
    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory(FullPath)]
    public long PcapRxFreeLoopInC() => BenchShim.BenchRxFreeLoop((ushort)_pcapPort.PortId, 0, Burst, BurstsPerInvoke, 0);

    /// <summary>
    /// The same packets replayed by a ring port without copies: receive, decode and flow update of each burst, then
    /// the burst sent back into the ring.
    /// </summary>
    /// <returns>Packets accounted so far.</returns>
    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory(FullPath)]
    public long RingReceiveDecodeFlowUpdate()
    {
        int notSent = 0;
        for (int i = 0; i < BurstsPerInvoke; i++)
        {
            _ringSource.ReadBatch(_batch);
            _ringPipeline.ProcessBatch(_batch);
            notSent += _batch.Count - _ringSource.TransmitHeld(_ringPort, 0);
        }

        _ringNotSent += notSent;
        return _ringPipeline.Table.Statistics.Packets;
    }

    /// <summary>The ring port's own cost: fe_rx_burst's code (descriptors, timestamps) and the send back, looped in C.</summary>
    /// <returns>Frames sent back.</returns>
    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory(FullPath)]
    public long RingRxTxLoopInC() => BenchShim.BenchRxTxLoop((ushort)_ringPort.PortId, 0, Burst, BurstsPerInvoke);

    /// <summary>Receive, decode and flow update of each burst on net_null.</summary>
    /// <returns>Packets accounted so far.</returns>
    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory(NullPath)]
    public long ReceiveDecodeFlowUpdate()
    {
        for (int i = 0; i < BurstsPerInvoke; i++)
        {
            _nullSource.ReadBatch(_batch);
            _nullPipeline.ProcessBatch(_batch);
        }

        return _nullPipeline.Table.Statistics.Packets;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _nullSource?.Dispose();
        _pcapSource?.Dispose();
        _ringSource?.Dispose();
        _nullPort?.Dispose();
        _pcapPort?.Dispose();

        // Destroying the ring port frees the buffers still queued in it.
        _ringPort?.Dispose();
        if (_registered)
        {
            DpdkEal.UnregisterCurrentThread();
            _registered = false;
        }

        _nullPipeline?.Dispose();
        _pcapPipeline?.Dispose();
        _filePipeline?.Dispose();
        _ringPipeline?.Dispose();
        _nullPool?.Dispose();
        _pcapPool?.Dispose();
        _ringPool?.Dispose();
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

    private void SetupCore()
    {
        string capture = FindCapture();
        _prefix = "fe-bench-" + Environment.ProcessId;
        // Hugepages as DPDK is deployed when the host has them reserved (the pools' 4 KiB pages otherwise cost a
        // TLB miss on most mbufs); --in-memory takes them without a hugetlbfs mount.
        bool huge = FreeHugePageBytes() >= EalMemoryBytes;
        Console.WriteLine($"// EAL memory: {(huge ? "2 MiB hugepages (--in-memory)" : "4 KiB pages (--no-huge): reserve hugepages for the deployed configuration")}");
        _eal = DpdkEal.Initialize([huge ? "--in-memory" : "--no-huge", "--no-pci", "--no-shconf", "--file-prefix=" + _prefix, "--no-telemetry", "-l", "0", "-m", (EalMemoryBytes >> 20).ToString(System.Globalization.CultureInfo.InvariantCulture), "--log-level=*:warning"]);

        // BenchmarkDotNet runs the setup and the iterations on the same thread.
        DpdkEal.RegisterCurrentThread();
        _registered = true;
        _batch = new PacketBatch(Burst);
        var options = new FlowPipelineOptions
        {
            BatchSize = Burst,
            Flows = new FlowTableOptions
            {
                MaxFlows = Flows * 4,
                TcpIdleTimeout = TimeSpan.FromHours(1),
                UdpIdleTimeout = TimeSpan.FromHours(1),
                IcmpIdleTimeout = TimeSpan.FromHours(1),
                OtherIdleTimeout = TimeSpan.FromHours(1),
                TcpCloseLinger = TimeSpan.FromHours(1),
                ActiveTimeout = TimeSpan.FromHours(1),
            },
        };

        // net_null: every buffer written once with a UDP frame.
        _nullPool = _eal.CreateMempool("fe-bench-null", PoolBuffers, cacheSize: 256);
        _nullPort = _eal.AttachVirtualDevice("net_null0", $"size={FrameBytes},copy=0");
        _nullPort.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1, Rss = false, Promiscuous = false, DriverTimestamps = false }, _nullPool);
        _nullPort.Start();
        WriteFramesIntoEveryBuffer();
        _nullSource = _nullPort.CreateSource(0, Burst);
        _nullPipeline = new FlowPipeline(new CountingSink(), options);

        // net_pcap replaying the capture from memory, and the same packets as file batches of 32 in replay order:
        // as many batches as make whole cycles of both (the replay wraps around at the capture's end).
        _pcapPool = _eal.CreateMempool("fe-bench-pcap", 2047, cacheSize: 256);
        _pcapPort = _eal.AttachVirtualDevice("net_pcap0", $"rx_pcap={capture},infinite_rx=1");
        _pcapPort.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1, Rss = false, Promiscuous = false, DriverTimestamps = false }, _pcapPool);
        _pcapPort.Start();
        _pcapSource = _pcapPort.CreateSource(0, Burst);
        _pcapPipeline = new FlowPipeline(new CountingSink(), options);
        _filePipeline = new FlowPipeline(new CountingSink(), options);
        _fileBatches = ReadFileBatches(capture);

        // A ring port loaded with the file batches' frames, in their order, each in its own mbuf.
        int ringFrames = _fileBatches.Length * Burst;
        _ringPool = _eal.CreateMempool("fe-bench-ring", ringFrames, cacheSize: 256);
        _ringPort = _eal.CreateRingPort("fe-bench", ringFrames);
        _ringPort.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1, Rss = false, Promiscuous = false, DriverTimestamps = true }, _ringPool);
        _ringPort.Start();
        LoadRing(_ringPort, _ringPool, _fileBatches);
        _ringSource = _ringPort.CreateSource(0, Burst);
        _ringPipeline = new FlowPipeline(new CountingSink(), options);

        // Warm every path; the two full paths must see the same packets, cycle for cycle.
        for (int i = 0; i < _fileBatches.Length; i++)
        {
            if (!_nullSource.ReadBatch(_batch) || _batch.Count != Burst)
            {
                throw new InvalidOperationException($"net_null gave a burst of {_batch.Count}, not {Burst}");
            }

            _nullPipeline.ProcessBatch(_batch);
            if (!_pcapSource.ReadBatch(_batch) || _batch.Count != Burst)
            {
                throw new InvalidOperationException($"net_pcap gave a burst of {_batch.Count}, not {Burst}");
            }

            for (int j = 0; j < Burst; j++)
            {
                if (!_batch.GetFrame(j).SequenceEqual(_fileBatches[i].GetFrame(j)) || _batch.GetWireLength(j) != _fileBatches[i].GetWireLength(j))
                {
                    throw new InvalidOperationException($"frame {j} of burst {i}: net_pcap's differs from the capture's");
                }
            }

            _pcapPipeline.ProcessBatch(_batch);
            if (!_ringSource.ReadBatch(_batch) || _batch.Count != Burst)
            {
                throw new InvalidOperationException($"the ring port gave a burst of {_batch.Count}, not {Burst}");
            }

            for (int j = 0; j < Burst; j++)
            {
                PacketBatch file = _fileBatches[i];
                if (!_batch.GetFrame(j).SequenceEqual(file.GetFrame(j)) || _batch.GetWireLength(j) != file.GetWireLength(j) || _batch.GetTimestampNs(j) != file.GetTimestampNs(j))
                {
                    throw new InvalidOperationException($"frame {j} of burst {i}: the ring port's differs from the capture's");
                }
            }

            _ringPipeline.ProcessBatch(_batch);
            if (_ringSource.TransmitHeld(_ringPort, 0) != Burst)
            {
                throw new InvalidOperationException($"the ring port did not take back burst {i}");
            }

            _filePipeline.ProcessBatch(_fileBatches[i]);
        }

        PipelineStatistics p = _pcapPipeline.Statistics, f = _filePipeline.Statistics;
        if (p.PacketsRead != f.PacketsRead || p.PacketsDecoded != f.PacketsDecoded || p.PacketsRejected != f.PacketsRejected || p.Flows.Packets != f.Flows.Packets)
        {
            throw new InvalidOperationException($"net_pcap and the file batches differ: read {p.PacketsRead}/{f.PacketsRead}, decoded {p.PacketsDecoded}/{f.PacketsDecoded}, rejected {p.PacketsRejected}/{f.PacketsRejected}, accounted {p.Flows.Packets}/{f.Flows.Packets}");
        }

        // The ring replays the capture's timestamps too: every counter must match, flow table's included.
        PipelineStatistics r = _ringPipeline.Statistics;
        if (r.PacketsRead != f.PacketsRead || r.PacketsDecoded != f.PacketsDecoded || !r.RejectedByReason().SequenceEqual(f.RejectedByReason()) || !r.Flows.Equals(f.Flows))
        {
            throw new InvalidOperationException($"the ring port and the file batches differ: read {r.PacketsRead}/{f.PacketsRead}, decoded {r.PacketsDecoded}/{f.PacketsDecoded}, rejected {r.PacketsRejected}/{f.PacketsRejected}, accounted {r.Flows.Packets}/{f.Flows.Packets}, flows created {r.Flows.FlowsCreated}/{f.Flows.FlowsCreated}");
        }

        if (_nullPipeline.Statistics.PacketsDecoded != (long)_fileBatches.Length * Burst)
        {
            throw new InvalidOperationException($"{_nullPipeline.Statistics.PacketsDecoded} of {_fileBatches.Length * Burst} net_null frames decoded");
        }

        foreach (ushort port in new[] { (ushort)_nullPort.PortId, (ushort)_pcapPort.PortId })
        {
            long frames = BenchShim.BenchRxFreeLoop(port, 0, Burst, BurstsPerInvoke, 0) + BenchShim.BenchRxFreeLoop(port, 0, Burst, BurstsPerInvoke, 1);
            if (frames != 2L * Operations)
            {
                throw new InvalidOperationException($"the C loop on port {port} received {frames} frames, not {2 * Operations}");
            }
        }

        if (BenchShim.BenchRxTxLoop((ushort)_ringPort.PortId, 0, Burst, BurstsPerInvoke) != Operations)
        {
            throw new InvalidOperationException("the C loop on the ring port did not send back every frame it received");
        }

        // BDN divides allocated bytes by OperationsPerInvoke (32768), so a small allocation per invocation would
        // read as 0 B: count exactly over one invocation of each managed benchmark instead, warm, and refuse to
        // run if any.
        long before = GC.GetAllocatedBytesForCurrentThread();
        RxBurstAndFree();
        ReceiveDecodeFlowUpdate();
        PcapReceiveDecodeFlowUpdate();
        RingReceiveDecodeFlowUpdate();
        FileReaderPipeline();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated != 0)
        {
            throw new InvalidOperationException($"the RX paths allocated {allocated} B in one invocation of each benchmark");
        }

        // Every frame went back into the ring, and the ring holds them all between bursts.
        if (_ringNotSent != 0 || _ringPool.AvailableCount != 0)
        {
            throw new InvalidOperationException($"the ring replay lost frames: {_ringNotSent} not taken back, {_ringPool.AvailableCount} buffers back in the pool");
        }
    }

    private static string FindCapture()
    {
        // BenchmarkDotNet runs a copy of the benchmark from a directory below bin/: look upwards for the repository.
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string path = Path.Combine(d.FullName, "samples", "data", "default.pcapng");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"samples/data/default.pcapng not found above {AppContext.BaseDirectory}");
    }

    private static long FreeHugePageBytes()
    {
        const string Path2M = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages";
        return File.Exists(Path2M) && long.TryParse(File.ReadAllText(Path2M).Trim(), out long pages) ? pages * (2L << 20) : 0;
    }

    private static PacketBatch[] ReadFileBatches(string capture)
    {
        var frames = new List<(byte[] Data, int WireLength, long TimestampNs)>();
        using (CaptureFileReader reader = CaptureFile.Open(capture))
        {
            var batch = new PacketBatch(256);
            while (reader.ReadBatch(batch))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    frames.Add((batch.GetFrame(i).ToArray(), batch.GetWireLength(i), batch.GetTimestampNs(i)));
                }
            }
        }

        // Whole cycles of both the capture and the burst: the least common multiple of their lengths.
        int gcd = Gcd(frames.Count, Burst);
        int batches = frames.Count / gcd;
        var result = new PacketBatch[batches];
        int next = 0;
        for (int b = 0; b < batches; b++)
        {
            result[b] = new PacketBatch(Burst, copyArenaBytes: Burst * 2048);
            for (int i = 0; i < Burst; i++, next = (next + 1) % frames.Count)
            {
                (byte[] data, int wire, long ts) = frames[next];
                if (!result[b].TryAppendCopy(data, wire, ts, LinkType.Ethernet))
                {
                    throw new InvalidOperationException($"frame {next} of {data.Length} bytes does not fit a batch's copy arena");
                }
            }
        }

        return result;
    }

    private static void LoadRing(DpdkPort port, DpdkMempool pool, PacketBatch[] batches)
    {
        var data = new List<byte>();
        var lengths = new List<uint>();
        var timestamps = new List<long>();
        foreach (PacketBatch b in batches)
        {
            for (int i = 0; i < b.Count; i++)
            {
                if (b.GetWireLength(i) != b.GetFrame(i).Length)
                {
                    throw new InvalidOperationException($"a frame of {b.GetFrame(i).Length} bytes was {b.GetWireLength(i)} on the wire: the ring replays whole frames only");
                }

                data.AddRange(b.GetFrame(i));
                lengths.Add((uint)b.GetFrame(i).Length);
                timestamps.Add(b.GetTimestampNs(i));
            }
        }

        port.LoadRing(pool, CollectionsMarshal.AsSpan(data), CollectionsMarshal.AsSpan(lengths), CollectionsMarshal.AsSpan(timestamps));
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

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
                DpdkPacketSource holder = _nullPort.CreateSource(0, Math.Min(Burst, PoolBuffers - written));
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
