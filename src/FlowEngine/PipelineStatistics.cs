// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine;

/// <summary>What a pipeline did: packets read, decoded, rejected by reason, and the flow table's counters.</summary>
public sealed class PipelineStatistics
{
    private readonly long[] _rejected = new long[Enum.GetValues<RejectReason>().Length];

    /// <summary>Packets read from the source.</summary>
    public long PacketsRead { get; internal set; }

    /// <summary>Packets decoded to an IP packet.</summary>
    public long PacketsDecoded { get; internal set; }

    /// <summary>Packets rejected by the decoder, all reasons together.</summary>
    public long PacketsRejected => _rejected.Sum();

    /// <summary>The flow table's counters.</summary>
    public FlowTableStatistics Flows { get; internal set; }

    /// <summary>Packets rejected for one reason.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The count.</returns>
    public long Rejected(RejectReason reason) => (uint)reason < (uint)_rejected.Length ? _rejected[(int)reason] : 0;

    /// <summary>Every reason with a non-zero count.</summary>
    /// <returns>Reason and count pairs.</returns>
    public IReadOnlyList<KeyValuePair<RejectReason, long>> RejectedByReason()
    {
        var list = new List<KeyValuePair<RejectReason, long>>();
        for (int i = 1; i < _rejected.Length; i++)
        {
            if (_rejected[i] != 0)
            {
                list.Add(new((RejectReason)i, _rejected[i]));
            }
        }

        return list;
    }

    internal void CountRejected(RejectReason reason, long count = 1) => _rejected[(int)reason] += count;
}
