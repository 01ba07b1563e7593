// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>Counters of a flow table's work since it was created.</summary>
public struct FlowTableStatistics
{
    /// <summary>Packets accounted to flows.</summary>
    public long Packets { get; internal set; }

    /// <summary>Flows created.</summary>
    public long FlowsCreated { get; internal set; }

    /// <summary>Later fragments whose first fragment was not seen (not accounted).</summary>
    public long UnmatchedFragments { get; internal set; }

    /// <summary>Flows evicted because the table was full.</summary>
    public long Evictions { get; internal set; }

    /// <summary>Records emitted for idle flows.</summary>
    public long IdleTimeouts { get; internal set; }

    /// <summary>Records emitted for flows active past the active timeout.</summary>
    public long ActiveTimeouts { get; internal set; }

    /// <summary>Records emitted for ended TCP connections.</summary>
    public long TcpEnds { get; internal set; }

    /// <summary>Records emitted at end of input.</summary>
    public long Flushed { get; internal set; }

    /// <summary>Records emitted because a new SYN reused a closed connection's key.</summary>
    public long Reused { get; internal set; }

    /// <summary>All records emitted.</summary>
    public readonly long RecordsEmitted => IdleTimeouts + ActiveTimeouts + TcpEnds + Flushed + Reused + Evictions;

    internal void CountEmitted(FlowEndReason reason)
    {
        switch (reason)
        {
            case FlowEndReason.IdleTimeout:
                IdleTimeouts++;
                break;
            case FlowEndReason.ActiveTimeout:
                ActiveTimeouts++;
                break;
            case FlowEndReason.TcpEnd:
                TcpEnds++;
                break;
            case FlowEndReason.EndOfInput:
                Flushed++;
                break;
            case FlowEndReason.Reused:
                Reused++;
                break;
            default:
                break;
        }
    }
}
