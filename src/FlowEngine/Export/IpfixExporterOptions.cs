// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Export;

/// <summary>Settings of an <see cref="IpfixExporter"/> (docs/ipfix.md).</summary>
public sealed class IpfixExporterOptions
{
    /// <summary>The Private Enterprise Number used by the default, documentation-only enterprise number (RFC 5612).</summary>
    public const uint DocumentationEnterpriseNumber = 32473;

    /// <summary>The observation domain id in every message header. Default: 1.</summary>
    public uint ObservationDomainId { get; set; } = 1;

    /// <summary>
    /// The Private Enterprise Number of FlowEngine's enterprise-specific information elements (application metadata,
    /// virtual network kind and id). Default: 32473, reserved for documentation by RFC 5612; set your own in production.
    /// </summary>
    public uint EnterpriseNumber { get; set; } = DocumentationEnterpriseNumber;

    /// <summary>
    /// One biflow record per flow (RFC 5103: reverse octets, packets and TCP flags with PEN 29305), which nfdump 1.7
    /// reads as its "out" counters. When false, a flow with responder packets gives two uniflow records. Default: true.
    /// </summary>
    public bool Biflow { get; set; } = true;

    /// <summary>Largest message in bytes. Default: 1472 (a UDP datagram in a 1500-byte Ethernet MTU over IPv4).</summary>
    public int MaxMessageBytes { get; set; } = 1472;

    /// <summary>Longest string element in bytes; longer values are truncated (RFC 7011 §7 variable-length encoding). Default: 253.</summary>
    public int MaxStringBytes { get; set; } = 253;

    /// <summary>UDP: the templates are sent again after this long (RFC 7011 §8.4); zero turns the timer off. Default: 60 s.</summary>
    public TimeSpan TemplateRefreshInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>UDP: the templates are sent again after this many data messages; zero turns the count off. Default: 100.</summary>
    public int TemplateRefreshMessages { get; set; } = 100;

    /// <summary>
    /// TCP: bytes of finished messages held while the connection is slow or down. A message that finds the buffer full
    /// is dropped and counted (<see cref="IpfixExporterStatistics.MessagesDropped"/>). Default: 4 MiB.
    /// </summary>
    public int TcpBufferBytes { get; set; } = 4 << 20;

    /// <summary>TCP: the wait between connection attempts. Default: 1 s.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>TCP: the longest wait for a connection or for one send. Default: 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>TCP: how long <see cref="IpfixExporter.Complete"/> waits for the buffer to drain before it counts the rest as dropped. Default: 10 s.</summary>
    public TimeSpan CompleteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock of the export time in message headers and of the template refresh timer. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (EnterpriseNumber is 0 or IpfixMessageWriter.ReversePen)
        {
            throw new ArgumentOutOfRangeException(
                nameof(EnterpriseNumber), EnterpriseNumber,
                $"EnterpriseNumber {EnterpriseNumber} is reserved (0 by IANA, 29305 for RFC 5103 reverse elements); use your own Private Enterprise Number or 32473 for tests");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStringBytes, 0, nameof(MaxStringBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxStringBytes, 4096, nameof(MaxStringBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxMessageBytes, ushort.MaxValue, nameof(MaxMessageBytes));
        int least = IpfixMessageWriter.MinimumMessageBytes(this);
        if (MaxMessageBytes < least)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxMessageBytes), MaxMessageBytes,
                $"MaxMessageBytes {MaxMessageBytes} is too small: a message must hold the templates and the largest data record ({least} bytes with MaxStringBytes {MaxStringBytes})");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(TemplateRefreshMessages, 0, nameof(TemplateRefreshMessages));
        ArgumentOutOfRangeException.ThrowIfLessThan(TemplateRefreshInterval, TimeSpan.Zero, nameof(TemplateRefreshInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(TcpBufferBytes, MaxMessageBytes * 2, nameof(TcpBufferBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TcpBufferBytes, 1 << 30, nameof(TcpBufferBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectDelay, TimeSpan.FromMilliseconds(1), nameof(ReconnectDelay));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReconnectDelay, TimeSpan.FromHours(1), nameof(ReconnectDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(ConnectTimeout, TimeSpan.FromMilliseconds(1), nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ConnectTimeout, TimeSpan.FromHours(1), nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(CompleteTimeout, TimeSpan.Zero, nameof(CompleteTimeout));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(CompleteTimeout, TimeSpan.FromDays(1), nameof(CompleteTimeout));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
