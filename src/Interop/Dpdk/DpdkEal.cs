// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>
/// DPDK's Environment Abstraction Layer, initialised once per process: the factory of mempools and ports.
/// </summary>
/// <example>
/// <code>
/// using DpdkEal eal = DpdkEal.Initialize(["--no-huge", "--no-pci", "--file-prefix=fe1", "--vdev=net_pcap0,rx_pcap=trace.pcap"]);
/// using DpdkMempool pool = eal.CreateMempool("rx", 8191);
/// using DpdkPort port = eal.OpenPort("net_pcap0");
/// port.Configure(new DpdkPortOptions(), pool);
/// port.Start();
/// using DpdkPacketSource source = port.CreateSource(0);
/// </code>
/// </example>
public sealed class DpdkEal : IDisposable
{
    private const int EAlready = 114;
    private static readonly Lock s_lock = new();
    private static DpdkEal? s_current;

    private readonly SafeEalHandle _handle;

    private DpdkEal(SafeEalHandle handle, int argumentsConsumed)
    {
        _handle = handle;
        ArgumentsConsumed = argumentsConsumed;
    }

    /// <summary>The initialised EAL of this process, or null.</summary>
    public static DpdkEal? Current
    {
        get
        {
            DpdkEal? eal = Volatile.Read(ref s_current);
            return eal is null || eal._handle.IsClosed ? null : eal;
        }
    }

    /// <summary>Arguments EAL consumed (including the program name it is given).</summary>
    public int ArgumentsConsumed { get; }

    /// <summary>The DPDK version, e.g. "DPDK 22.11.11".</summary>
    public static unsafe string Version
    {
        get
        {
            FlowShimLibrary.EnsureLoaded();
            return Marshal.PtrToStringUTF8((nint)FlowShim.VersionGet()) ?? string.Empty;
        }
    }

    /// <summary>Ports available (probed at initialisation or attached since).</summary>
    public int PortCount
    {
        get
        {
            ThrowIfDisposed();
            return FlowShim.PortCount();
        }
    }

    /// <summary>Ids of the NUMA sockets EAL knows.</summary>
    public IReadOnlyList<int> NumaSockets
    {
        get
        {
            ThrowIfDisposed();
            int n = FlowShim.SocketCount();
            var sockets = new int[n];
            for (int i = 0; i < n; i++)
            {
                sockets[i] = FlowShim.SocketIdGet(i);
            }

            return sockets;
        }
    }

    /// <summary>
    /// Initialises EAL with <paramref name="arguments"/> (without a program name), e.g.
    /// <c>--no-huge --no-pci --file-prefix=x --vdev=net_pcap0,rx_pcap=a.pcap</c>. The calling thread keeps its CPU
    /// affinity. EAL can be initialised once per process.
    /// </summary>
    /// <param name="arguments">EAL arguments.</param>
    /// <returns>The EAL; disposing it runs rte_eal_cleanup.</returns>
    /// <exception cref="DpdkException">The shim or DPDK is missing, or EAL failed (<see cref="DpdkFailure.EalInit"/>).</exception>
    public static unsafe DpdkEal Initialize(IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        FlowShimLibrary.EnsureLoaded();
        string[] argv = ["flowengine", .. arguments];
        lock (s_lock)
        {
            if (s_current is not null)
            {
                throw new DpdkException(DpdkFailure.EalInit, -EAlready, "EAL is already initialised in this process; it can be initialised once (share the DpdkEal instance)");
            }

            var handle = new SafeEalHandle();
            int rc;
            byte** pointers = (byte**)NativeMemory.AllocZeroed((nuint)argv.Length, (nuint)sizeof(nint));
            try
            {
                for (int i = 0; i < argv.Length; i++)
                {
                    pointers[i] = AllocUtf8(argv[i]);
                }

                rc = FlowShim.EalInit(argv.Length, pointers);
                if (rc < 0)
                {
                    ThrowHelper.ThrowNativeError(rc, $"EAL initialisation with '{string.Join(' ', argv.Skip(1))}'", DpdkFailure.EalInit);
                }
            }
            finally
            {
                // rte_eal_init keeps no pointer to the strings (it copies what it stores).
                for (int i = 0; i < argv.Length; i++)
                {
                    NativeMemory.Free(pointers[i]);
                }

                NativeMemory.Free(pointers);
            }

            handle.MarkInitialized();
            var eal = new DpdkEal(handle, rc);
            s_current = eal;
            return eal;
        }
    }

    /// <summary>
    /// Makes the calling thread a DPDK lcore (rte_thread_register), so that mempool caches and per-lcore state
    /// work on it. Idempotent.
    /// </summary>
    /// <returns>The thread's lcore id.</returns>
    public static int RegisterCurrentThread()
    {
        FlowShimLibrary.EnsureLoaded();
        int lcore = FlowShim.ThreadRegister();
        if (lcore < 0)
        {
            ThrowHelper.ThrowNativeError(lcore, "registering the thread with DPDK");
        }

        return lcore;
    }

    /// <summary>Releases the calling thread's lcore id taken by <see cref="RegisterCurrentThread"/>.</summary>
    public static void UnregisterCurrentThread()
    {
        FlowShimLibrary.EnsureLoaded();
        FlowShim.ThreadUnregister();
    }

    /// <summary>The calling thread's lcore id, or -1 when it is not a DPDK thread.</summary>
    /// <returns>The lcore id.</returns>
    public static int CurrentLcoreId()
    {
        FlowShimLibrary.EnsureLoaded();
        return FlowShim.LcoreId();
    }

    /// <summary>Creates a pool of packet buffers.</summary>
    /// <param name="name">Unique name.</param>
    /// <param name="bufferCount">Buffers (a power of two minus one is most efficient).</param>
    /// <param name="dataRoomBytes">Bytes per buffer including the 128-byte headroom; 0 for 2176 (a 2048-byte frame).</param>
    /// <param name="cacheSize">Per-lcore cache size (at most 512).</param>
    /// <param name="numaSocket">NUMA socket, or -1 for any; use <see cref="DpdkPort.NumaSocket"/> to stay local to a port.</param>
    /// <returns>The pool.</returns>
    public DpdkMempool CreateMempool(string name, int bufferCount, int dataRoomBytes = 0, int cacheSize = 256, int numaSocket = -1)
    {
        ThrowIfDisposed();
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(dataRoomBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dataRoomBytes, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegative(cacheSize);
        int rc = FlowShim.MempoolCreate(name, (uint)bufferCount, (uint)cacheSize, (ushort)dataRoomBytes, numaSocket, out nint pool);
        if (rc < 0)
        {
            ThrowHelper.ThrowNativeError(rc, $"creating mempool {name}");
        }

        var handle = new SafeMempoolHandle();
        handle.Attach(pool);
        return new DpdkMempool(handle, name, bufferCount);
    }

    /// <summary>Opens a port probed at initialisation, by device name (PCI address or vdev name such as net_pcap0).</summary>
    /// <param name="deviceName">The name.</param>
    /// <returns>The port; disposing it stops and closes it.</returns>
    /// <exception cref="DpdkException">No such port (<see cref="DpdkFailure.PortNotFound"/>).</exception>
    public DpdkPort OpenPort(string deviceName)
    {
        ThrowIfDisposed();
        ArgumentException.ThrowIfNullOrEmpty(deviceName);
        int rc = FlowShim.PortFind(deviceName, out ushort portId);
        if (rc < 0)
        {
            ThrowHelper.ThrowNativeError(rc, $"opening port {deviceName}", DpdkFailure.PortNotFound);
        }

        var handle = new SafePortHandle();
        handle.Attach(portId, null);
        return new DpdkPort(handle, deviceName);
    }

    /// <summary>
    /// Attaches a virtual device after initialisation (hotplug), e.g. <c>("net_pcap1", "rx_pcap=a.pcap")</c> or
    /// <c>("net_af_packet0", "iface=veth0")</c>.
    /// </summary>
    /// <param name="name">Driver name with a unique suffix.</param>
    /// <param name="arguments">Driver arguments.</param>
    /// <returns>The port; disposing it stops and detaches the device.</returns>
    /// <exception cref="DpdkException">The device could not be attached (<see cref="DpdkFailure.PortNotFound"/>).</exception>
    public DpdkPort AttachVirtualDevice(string name, string arguments)
    {
        ThrowIfDisposed();
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(arguments);
        int rc = FlowShim.VdevAttach(name, arguments, out ushort portId);
        if (rc < 0)
        {
            ThrowHelper.ThrowNativeError(rc, $"attaching virtual device {name}", DpdkFailure.PortNotFound);
        }

        var handle = new SafePortHandle();
        handle.Attach(portId, name);
        return new DpdkPort(handle, name);
    }

    /// <summary>Runs rte_eal_cleanup. Dispose ports and mempools first.</summary>
    public void Dispose() => _handle.Dispose();

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_handle.IsClosed, this);

    private static unsafe byte* AllocUtf8(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }
}
