// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Capture;

/// <summary>
/// A packet source written outside the library fills batches through public API only (as FlowEngine.Interop does, which
/// has no access to the core's internals): frames in native memory it owns, appended without a copy.
/// </summary>
public class ThirdPartySourceTests
{
    private sealed unsafe class NativeRingSource : IPacketSource
    {
        private readonly nint _memory;
        private readonly List<(int Offset, int Length)> _frames = [];
        private int _next;

        public NativeRingSource(IReadOnlyList<byte[]> frames)
        {
            int total = frames.Sum(f => f.Length);
            _memory = (nint)NativeMemory.Alloc((nuint)total);
            int offset = 0;
            foreach (byte[] f in frames)
            {
                f.CopyTo(new Span<byte>((byte*)_memory + offset, f.Length));
                _frames.Add((offset, f.Length));
                offset += f.Length;
            }
        }

        public bool ReadBatch(PacketBatch batch)
        {
            batch.Clear();
            while (_next < _frames.Count && !batch.IsFull)
            {
                (int offset, int length) = _frames[_next];
                batch.UnsafeAppend(_memory + offset, length, length, 1_700_000_000_000_000_000 + (_next * 1000L), LinkType.Ethernet);
                _next++;
            }

            return batch.Count > 0;
        }

        public void Dispose() => NativeMemory.Free((void*)_memory);
    }

    [Fact]
    public void UnsafeAppend_NativeFramesThroughPipeline_FlowsCountedWithoutCopy()
    {
        var frames = new List<byte[]>();
        for (int i = 0; i < 600; i++)
        {
            frames.Add(Frames.VxlanTcp(7, "10.1.0.1", "10.1.0.2", (ushort)(2000 + (i % 3)), 443, 0x10, 100));
        }

        var records = new List<FlowRecord>();
        using var source = new NativeRingSource(frames);
        using var pipeline = new FlowPipeline(FlowSink.ToList(records), new FlowPipelineOptions { BatchSize = 64 });
        PipelineStatistics stats = pipeline.Run(source);
        Assert.Equal(600, stats.PacketsDecoded);
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal(200u, r.ForwardPackets));
        Assert.All(records, r => Assert.Equal(200UL * (20 + 20 + 100), r.ForwardBytes));
    }

    [Fact]
    public void UnsafeAppend_FullBatchOrNegativeLength_ClearErrors()
    {
        var batch = new PacketBatch(1);
        batch.UnsafeAppend(0, 0, 0, 0, LinkType.Ethernet);
        Assert.Throws<InvalidOperationException>(() => batch.UnsafeAppend(0, 0, 0, 0, LinkType.Ethernet));
        batch.Clear();
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.UnsafeAppend(0, -1, 0, 0, LinkType.Ethernet));
    }
}
