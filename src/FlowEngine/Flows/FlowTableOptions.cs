// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>Settings of a <see cref="FlowTable"/>. Times are packet time, so replaying a capture is deterministic.</summary>
public sealed class FlowTableOptions
{
    /// <summary>Most concurrent flows; the table's memory is sized for this once (16/15 of it in slots, so that a slot in sixteen stays free). Default: 65536.</summary>
    public int MaxFlows { get; set; } = 65536;

    /// <summary>Idle timeout of TCP flows. Default: 5 minutes (Zeek's tcp_inactivity_timeout).</summary>
    public TimeSpan TcpIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Idle timeout of UDP flows. Default: 1 minute.</summary>
    public TimeSpan UdpIdleTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Idle timeout of ICMP and ICMPv6 flows. Default: 1 minute.</summary>
    public TimeSpan IcmpIdleTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Idle timeout of other protocols. Default: 1 minute.</summary>
    public TimeSpan OtherIdleTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A flow active this long is reported and continues in a new record. Default: 30 minutes; at most 1 hour.</summary>
    public TimeSpan ActiveTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a TCP flow stays after FIN in both directions or a RST, to collect the last ACKs. Default: 5 seconds (Zeek's tcp_close_delay).</summary>
    public TimeSpan TcpCloseLinger { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The seed of the table's key hash. Default: null, a random seed per process, so that nobody outside can predict
    /// where a flow sits. Records never depend on it; set it to reproduce a table's memory layout (in tests, say).
    /// </summary>
    public uint? HashSeed { get; set; }

    /// <summary>Most records handed to the sink in one batch. Default: 128.</summary>
    public int RecordBatchSize { get; set; } = 128;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFlows, 16, nameof(MaxFlows));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFlows, 1 << 26, nameof(MaxFlows));
        ArgumentOutOfRangeException.ThrowIfLessThan(RecordBatchSize, 1, nameof(RecordBatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RecordBatchSize, 65536, nameof(RecordBatchSize));
        Positive(TcpIdleTimeout, nameof(TcpIdleTimeout));
        Positive(UdpIdleTimeout, nameof(UdpIdleTimeout));
        Positive(IcmpIdleTimeout, nameof(IcmpIdleTimeout));
        Positive(OtherIdleTimeout, nameof(OtherIdleTimeout));
        Positive(ActiveTimeout, nameof(ActiveTimeout));
        if (TcpCloseLinger < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TcpCloseLinger), TcpCloseLinger, "must not be negative");
        }

        if (ActiveTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ActiveTimeout), ActiveTimeout, "must be at most 1 hour");
        }

        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(name, value, "must be positive");
            }
        }
    }
}
