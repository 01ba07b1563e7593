// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Dpdk;

/// <summary>Link state of a port.</summary>
/// <param name="IsUp">True when the link is up.</param>
/// <param name="SpeedMbps">Speed in Mbit/s, 0 when unknown.</param>
/// <param name="IsFullDuplex">True for full duplex.</param>
/// <param name="IsAutonegotiated">True when the speed was autonegotiated.</param>
public readonly record struct DpdkLinkStatus(bool IsUp, int SpeedMbps, bool IsFullDuplex, bool IsAutonegotiated);
