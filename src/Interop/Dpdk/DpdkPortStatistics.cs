// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Dpdk;

/// <summary>Counters of a port (rte_eth_stats).</summary>
/// <param name="ReceivedPackets">Frames received.</param>
/// <param name="SentPackets">Frames sent.</param>
/// <param name="ReceivedBytes">Bytes received.</param>
/// <param name="SentBytes">Bytes sent.</param>
/// <param name="MissedPackets">Frames the device dropped because the RX queues were full.</param>
/// <param name="ReceiveErrors">Erroneous frames received.</param>
/// <param name="SendErrors">Frames that failed to send.</param>
/// <param name="NoBufferFailures">Receive failures for lack of a buffer in the mempool.</param>
public readonly record struct DpdkPortStatistics(
    long ReceivedPackets,
    long SentPackets,
    long ReceivedBytes,
    long SentBytes,
    long MissedPackets,
    long ReceiveErrors,
    long SendErrors,
    long NoBufferFailures);
