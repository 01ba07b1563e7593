// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Export;

/// <summary>The exporter's counters, written per message (never per record) by the worker and the TCP sender thread.</summary>
internal sealed class IpfixCounters
{
    private long _messagesSent;
    private long _recordsSent;
    private long _bytesSent;
    private long _templatesSent;
    private long _messagesDropped;
    private long _recordsDropped;
    private long _reconnects;
    private long _connectionErrors;

    public void Sent(int bytes, int records, bool template)
    {
        Interlocked.Increment(ref _messagesSent);
        Interlocked.Add(ref _recordsSent, records);
        Interlocked.Add(ref _bytesSent, bytes);
        if (template)
        {
            Interlocked.Increment(ref _templatesSent);
        }
    }

    public void Dropped(int messages, long records)
    {
        Interlocked.Add(ref _messagesDropped, messages);
        Interlocked.Add(ref _recordsDropped, records);
    }

    public void Reconnected() => Interlocked.Increment(ref _reconnects);

    public void ConnectionError() => Interlocked.Increment(ref _connectionErrors);

    public IpfixExporterStatistics Snapshot() => new()
    {
        MessagesSent = Interlocked.Read(ref _messagesSent),
        RecordsSent = Interlocked.Read(ref _recordsSent),
        BytesSent = Interlocked.Read(ref _bytesSent),
        TemplatesSent = Interlocked.Read(ref _templatesSent),
        MessagesDropped = Interlocked.Read(ref _messagesDropped),
        RecordsDropped = Interlocked.Read(ref _recordsDropped),
        Reconnects = Interlocked.Read(ref _reconnects),
        ConnectionErrors = Interlocked.Read(ref _connectionErrors),
    };
}
