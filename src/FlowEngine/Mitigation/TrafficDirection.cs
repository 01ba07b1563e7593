// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>Which packets of an address an address-level action matches, seen from that address.</summary>
public enum TrafficDirection : byte
{
    /// <summary>Packets from and to the address.</summary>
    Both = 0,

    /// <summary>Packets to the address (it is the destination).</summary>
    Inbound = 1,

    /// <summary>Packets from the address (it is the source).</summary>
    Outbound = 2,
}
