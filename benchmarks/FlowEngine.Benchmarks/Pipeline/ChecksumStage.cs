// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Pipeline;

/// <summary>
/// The decode-only stage: folds a few decoded fields into a checksum, so the decoder's work cannot be removed as
/// dead code and two runs over the same capture can be compared.
/// </summary>
public struct ChecksumStage : IPacketStage
{
    /// <summary>Running checksum.</summary>
    public ulong Checksum;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Process(ReadOnlySpan<byte> frame, ref DecodedPacket packet)
    {
        Checksum = (Checksum * 31) + packet.VnId + packet.SourcePort + ((ulong)packet.DestinationPort << 16) + (ulong)packet.PayloadLength;
    }
}
