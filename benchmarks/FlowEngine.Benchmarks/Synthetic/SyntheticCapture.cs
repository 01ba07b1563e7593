// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Synthetic;

/// <summary>
/// Frames held in memory for pipelines that must not touch the disk: one contiguous buffer plus per-frame offset,
/// captured length, wire length and timestamp columns.
/// </summary>
public sealed class SyntheticCapture
{
    internal SyntheticCapture(byte[] data, int[] offsets, int[] lengths, int[] wireLengths, long[] timestampsNs, int count, int distinctFlows)
    {
        Data = data;
        Offsets = offsets;
        Lengths = lengths;
        WireLengths = wireLengths;
        TimestampsNs = timestampsNs;
        Count = count;
        DistinctFlows = distinctFlows;
    }

    /// <summary>
    /// The same frames in an ordinary (not pinned, not huge-page advised) array: the baseline of
    /// <c>decode-throughput --compare pages</c>.
    /// </summary>
    /// <returns>The copy.</returns>
    public SyntheticCapture WithOrdinaryPages()
        => new((byte[])Data.Clone(), Offsets, Lengths, WireLengths, TimestampsNs, Count, DistinctFlows);

    /// <summary>All frames back to back, in a pinned array advised for 2 MiB pages (Linux).</summary>
    public byte[] Data { get; }

    /// <summary>Offset of each frame in <see cref="Data"/>.</summary>
    public int[] Offsets { get; }

    /// <summary>Captured length of each frame.</summary>
    public int[] Lengths { get; }

    /// <summary>Length of each frame on the wire (differs from <see cref="Lengths"/> only with a snap length).</summary>
    public int[] WireLengths { get; }

    /// <summary>Timestamp of each frame, nanoseconds since the Unix epoch.</summary>
    public long[] TimestampsNs { get; }

    /// <summary>Number of frames.</summary>
    public int Count { get; }

    /// <summary>Link type of every frame.</summary>
    public LinkType LinkType => LinkType.Ethernet;

    /// <summary>Flows of the population that have at least one packet in the capture.</summary>
    public int DistinctFlows { get; }

    /// <summary>Sum of the wire lengths.</summary>
    public long TotalWireBytes
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < Count; i++)
            {
                sum += WireLengths[i];
            }

            return sum;
        }
    }

    /// <summary>The captured bytes of frame <paramref name="index"/>.</summary>
    /// <param name="index">0 to Count - 1.</param>
    /// <returns>The frame.</returns>
    public ReadOnlySpan<byte> GetFrame(int index) => Data.AsSpan(Offsets[index], Lengths[index]);
}
