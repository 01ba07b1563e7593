// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>
/// An ethdev port: configured once (queues, RSS, promiscuous mode, MTU), started, read through one
/// <see cref="DpdkPacketSource"/> per RX queue. Created by <see cref="DpdkEal.OpenPort"/> or
/// <see cref="DpdkEal.AttachVirtualDevice"/>.
/// </summary>
public sealed class DpdkPort : IDisposable
{
    private readonly SafePortHandle _handle;
    private volatile bool _started;
    private int _rxQueues;
    private int _txQueues;

    internal DpdkPort(SafePortHandle handle, string name)
    {
        _handle = handle;
        Name = name;
        PortId = handle.PortId;
    }

    /// <summary>Device name.</summary>
    public string Name { get; }

    /// <summary>DPDK port id.</summary>
    public int PortId { get; }

    /// <summary>NUMA socket of the device, -1 when unknown; create the port's mempool there.</summary>
    public int NumaSocket
    {
        get
        {
            ThrowIfDisposed();
            return FlowShim.PortSocketId((ushort)PortId);
        }
    }

    /// <summary>RX queues configured.</summary>
    public int RxQueues => _rxQueues;

    /// <summary>TX queues configured.</summary>
    public int TxQueues => _txQueues;

    /// <summary>True between <see cref="Start"/> and <see cref="Stop"/>.</summary>
    public bool IsStarted => _started;

    /// <summary>Counters of the port.</summary>
    public DpdkPortStatistics Statistics
    {
        get
        {
            ThrowIfDisposed();
            int rc = FlowShim.PortStatsGet((ushort)PortId, out FlowShim.PortStats s);
            if (rc < 0)
            {
                ThrowHelper.ThrowNativeError(rc, $"reading counters of port {Name}");
            }

            return new DpdkPortStatistics((long)s.IPackets, (long)s.OPackets, (long)s.IBytes, (long)s.OBytes, (long)s.IMissed, (long)s.IErrors, (long)s.OErrors, (long)s.RxNoMbuf);
        }
    }

    /// <summary>Link state (not waiting for negotiation).</summary>
    public DpdkLinkStatus LinkStatus
    {
        get
        {
            ThrowIfDisposed();
            int rc = FlowShim.PortLinkGet((ushort)PortId, out FlowShim.Link l);
            if (rc < 0)
            {
                ThrowHelper.ThrowNativeError(rc, $"reading link status of port {Name}");
            }

            return new DpdkLinkStatus(l.Up != 0, (int)l.SpeedMbps, l.FullDuplex != 0, l.Autoneg != 0);
        }
    }

    internal SafePortHandle Handle => _handle;

    /// <summary>Frames received by one RX queue (for the first 16 queues).</summary>
    /// <param name="queue">The queue.</param>
    /// <returns>The count.</returns>
    public long GetQueueReceivedPackets(int queue)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(queue);
        int rc = FlowShim.PortQueueIPackets((ushort)PortId, (ushort)queue, out ulong packets);
        if (rc < 0)
        {
            ThrowHelper.ThrowNativeError(rc, $"reading counters of queue {queue} of port {Name}");
        }

        return (long)packets;
    }

    /// <summary>Resets the counters.</summary>
    public void ResetStatistics()
    {
        ThrowIfDisposed();
        int rc = FlowShim.PortStatsReset((ushort)PortId);
        if (rc < 0)
        {
            ThrowHelper.ThrowNativeError(rc, $"resetting counters of port {Name}");
        }
    }

    /// <summary>Configures queues, RSS, MTU and promiscuous mode; the port must be stopped.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="mempool">Buffers for received frames; must outlive the port.</param>
    public void Configure(DpdkPortOptions options, DpdkMempool mempool)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(mempool);
        ThrowIfDisposed();
        options.Validate();
        if (_started)
        {
            throw new InvalidOperationException($"port {Name} is started; stop it before configuring");
        }

        var config = new FlowShim.PortConfig
        {
            RxQueues = (ushort)options.RxQueues,
            TxQueues = (ushort)options.TxQueues,
            RxDescriptors = (ushort)options.RxDescriptors,
            TxDescriptors = (ushort)options.TxDescriptors,
            Mtu = (ushort)options.Mtu,
            Promiscuous = options.Promiscuous ? (byte)1 : (byte)0,
            Rss = options.Rss ? (byte)1 : (byte)0,
            RxTimestamp = options.DriverTimestamps ? (byte)1 : (byte)0,
        };
        int rc = FlowShim.PortConfigure((ushort)PortId, in config, mempool.Handle);
        if (rc < 0)
        {
            ThrowHelper.ThrowNativeError(rc, $"configuring port {Name}");
        }

        _rxQueues = options.RxQueues;
        _txQueues = options.TxQueues;
    }

    /// <summary>Starts the port (and enables promiscuous mode when configured).</summary>
    public void Start()
    {
        ThrowIfDisposed();
        if (_rxQueues == 0)
        {
            throw new InvalidOperationException($"port {Name} is not configured");
        }

        int rc = FlowShim.PortStart((ushort)PortId);
        if (rc < 0)
        {
            ThrowHelper.ThrowNativeError(rc, $"starting port {Name}");
        }

        _started = true;
    }

    /// <summary>Stops the port; its sources then report the end of input.</summary>
    public void Stop()
    {
        ThrowIfDisposed();
        _started = false;
        int rc = FlowShim.PortStop((ushort)PortId);
        if (rc < 0)
        {
            ThrowHelper.ThrowNativeError(rc, $"stopping port {Name}");
        }
    }

    /// <summary>Creates the packet source of one RX queue; read it from one thread only.</summary>
    /// <param name="queue">RX queue, 0 to <see cref="RxQueues"/> - 1.</param>
    /// <param name="maxBurst">Most frames per burst (the batch capacity is the other limit). Default: 256.</param>
    /// <returns>The source.</returns>
    public DpdkPacketSource CreateSource(int queue, int maxBurst = 256)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(queue);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(queue, Math.Max(_rxQueues, 1));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBurst, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBurst, ushort.MaxValue);
        return new DpdkPacketSource(this, (ushort)queue, maxBurst);
    }

    /// <summary>Stops the port and closes it (detaches it when it is a virtual device attached by this process).</summary>
    public void Dispose()
    {
        _started = false;
        _handle.Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
}
