// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Capture;

/// <summary>Bounds that keep a damaged length field from driving allocation or reads.</summary>
internal static class CaptureLimits
{
    /// <summary>Largest pcapng block that is held whole in memory (header, interface and packet blocks). 64 MiB.</summary>
    public const int MaxBufferedBlockBytes = 64 << 20;

    /// <summary>Most interfaces in one pcapng section: <see cref="PacketBatch"/> stores the interface id in 16 bits.</summary>
    public const int MaxInterfaces = 65536;
}
