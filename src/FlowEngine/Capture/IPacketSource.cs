// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Capture;

/// <summary>
/// Something that delivers packets in batches: a capture file, a NIC queue, an AF_PACKET ring.
/// One source is read by one thread.
/// </summary>
public interface IPacketSource : IDisposable
{
    /// <summary>
    /// Clears <paramref name="batch"/> and fills it with the next packets. The frames stay valid until the next call
    /// or until the source is disposed.
    /// </summary>
    /// <param name="batch">The batch to fill.</param>
    /// <returns>
    /// False when the source has ended and the batch is empty. A live source may return true with an empty batch
    /// when no packet arrived.
    /// </returns>
    /// <exception cref="CaptureFormatException">The input is damaged; every packet before the damage was delivered first.</exception>
    bool ReadBatch(PacketBatch batch);
}
