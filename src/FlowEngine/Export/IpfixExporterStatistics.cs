// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Export;

/// <summary>Counters of an <see cref="IpfixExporter"/>; every data record encoded is either sent or counted as dropped.</summary>
public readonly record struct IpfixExporterStatistics
{
    /// <summary>Messages handed to the network (UDP datagrams sent; TCP messages written to the connection), templates included.</summary>
    public long MessagesSent { get; init; }

    /// <summary>Data records in the messages sent.</summary>
    public long RecordsSent { get; init; }

    /// <summary>Bytes of the messages sent.</summary>
    public long BytesSent { get; init; }

    /// <summary>Template messages sent (UDP: the first and each refresh; TCP: one per connection).</summary>
    public long TemplatesSent { get; init; }

    /// <summary>
    /// Messages not delivered: a UDP send that failed (template messages included), a message that found the TCP buffer
    /// full, or what was left in it when <see cref="IpfixExporter.Complete"/> gave up.
    /// </summary>
    public long MessagesDropped { get; init; }

    /// <summary>Data records in the dropped messages.</summary>
    public long RecordsDropped { get; init; }

    /// <summary>TCP: connections made after the first.</summary>
    public long Reconnects { get; init; }

    /// <summary>TCP: failed connection attempts and broken connections.</summary>
    public long ConnectionErrors { get; init; }
}
