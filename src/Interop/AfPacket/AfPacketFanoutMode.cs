// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.AfPacket;

/// <summary>How the kernel spreads packets over the sockets of one fanout group (PACKET_FANOUT_*).</summary>
public enum AfPacketFanoutMode
{
    /// <summary>By flow hash (symmetric: both directions of a flow reach the same socket), defragmenting first.</summary>
    Hash = 0,

    /// <summary>Round robin: spreads load, splits flows.</summary>
    LoadBalance = 1,

    /// <summary>By the CPU that received the packet.</summary>
    Cpu = 2,
}
