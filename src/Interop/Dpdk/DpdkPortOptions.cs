// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Dpdk;

/// <summary>Settings of <see cref="DpdkPort.Configure"/>.</summary>
public sealed class DpdkPortOptions
{
    /// <summary>RX queues, one worker each. Default: 1.</summary>
    public int RxQueues { get; set; } = 1;

    /// <summary>TX queues (inline forwarding); 0 for capture only. Default: 1.</summary>
    public int TxQueues { get; set; } = 1;

    /// <summary>RX descriptors per queue, adjusted to the device's limits. Default: 1024.</summary>
    public int RxDescriptors { get; set; } = 1024;

    /// <summary>TX descriptors per queue, adjusted to the device's limits. Default: 1024.</summary>
    public int TxDescriptors { get; set; } = 1024;

    /// <summary>MTU to set; 0 keeps the device's. Default: 0.</summary>
    public int Mtu { get; set; }

    /// <summary>Receive frames for every address. Default: true.</summary>
    public bool Promiscuous { get; set; } = true;

    /// <summary>
    /// Spread flows over the RX queues with RSS (IP, TCP, UDP) and a symmetric key, so both directions of a flow
    /// reach the same worker. Default: true.
    /// </summary>
    public bool Rss { get; set; } = true;

    /// <summary>
    /// Use the driver's capture timestamps where their unit is known (net_pcap); otherwise frames carry the host
    /// clock at their burst. Default: true.
    /// </summary>
    public bool DriverTimestamps { get; set; } = true;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(RxQueues, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RxQueues, 1024);
        ArgumentOutOfRangeException.ThrowIfNegative(TxQueues);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TxQueues, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(RxDescriptors, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RxDescriptors, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(TxDescriptors, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TxDescriptors, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegative(Mtu);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Mtu, ushort.MaxValue);
    }
}
