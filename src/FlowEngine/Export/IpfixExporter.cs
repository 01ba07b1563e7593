// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using FlowEngine.AppLayer;
using FlowEngine.Flows;

namespace FlowEngine.Export;

/// <summary>
/// A flow sink that exports records as IPFIX (RFC 7011) to a collector over UDP or TCP: one template for IPv4 and
/// one for IPv6 flows with the standard information elements, biflow counters (RFC 5103), the virtual network and,
/// with an <see cref="AppMetadataTable"/>, the application metadata as enterprise-specific elements (docs/ipfix.md).
/// </summary>
/// <remarks>
/// Records are encoded on the caller's thread into one reused buffer, without allocating; a message leaves when the
/// next record does not fit, and at <see cref="Flush"/>. UDP sends each message at once and sends the templates
/// before the first data message and again by time and by message count. TCP queues messages in a bounded buffer
/// for a sender thread that sends the templates once per connection and reconnects after errors. Nothing is lost
/// silently: every data record is sent or counted in <see cref="IpfixExporterStatistics.RecordsDropped"/>. The
/// sequence number of a message is the number of data records encoded before it (modulo 2^32), so a collector sees
/// a drop as a gap.
/// </remarks>
public sealed class IpfixExporter : IFlowSink, IDisposable
{
    private readonly IpfixExporterOptions _options;
    private readonly AppMetadataTable? _metadata;
    private readonly IpfixMessageWriter _writer;
    private readonly IpfixTransport _transport;
    private readonly IpfixCounters _counters = new();
    private readonly byte[] _templateMessage;
    private uint _sequence;
    private int _messagesSinceTemplates;
    private long _templatesSentAt;
    private bool _templatesSent;
    private bool _completed;

    private IpfixExporter(IPEndPoint collector, bool tcp, IpfixExporterOptions options, AppMetadataTable? metadata)
    {
        _options = options;
        _metadata = metadata;
        _writer = new IpfixMessageWriter(options, metadata is not null);
        _templateMessage = new byte[IpfixMessageWriter.HeaderBytes + _writer.TemplateSet.Length];
        _transport = tcp ? new IpfixTcpTransport(collector, _counters, _writer, options) : new IpfixUdpTransport(collector, _counters);
        Collector = collector;
        Transport = tcp ? "tcp" : "udp";
    }

    /// <summary>The collector's address and port.</summary>
    public IPEndPoint Collector { get; }

    /// <summary><c>udp</c> or <c>tcp</c>.</summary>
    public string Transport { get; }

    /// <summary>The counters so far (safe to read from any thread).</summary>
    public IpfixExporterStatistics Statistics => _counters.Snapshot();

    /// <summary>
    /// Creates an exporter to <paramref name="collector"/>, <c>udp://HOST:PORT</c> or <c>tcp://HOST:PORT</c> (HOST a
    /// name, an IPv4 address or a bracketed IPv6 address). A TCP exporter connects in the background, so a collector
    /// that is down does not fail this call: its records are buffered, then counted as dropped.
    /// </summary>
    /// <param name="collector">The collector's URI.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="metadata">The application metadata of the pipeline whose records this sink receives; null for none.</param>
    /// <returns>The exporter.</returns>
    /// <exception cref="ArgumentException">The URI is not udp:// or tcp:// with a host and a port, or the host has no address.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (a message size too small for the templates and the largest record).</exception>
    public static IpfixExporter Create(string collector, IpfixExporterOptions? options = null, AppMetadataTable? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(collector);
        options ??= new IpfixExporterOptions();
        options.Validate();
        (IPEndPoint endpoint, bool tcp) = ParseCollector(collector);
        return new IpfixExporter(endpoint, tcp, options, metadata);
    }

    /// <summary>Parses <c>udp://HOST:PORT</c> or <c>tcp://HOST:PORT</c> and resolves HOST.</summary>
    /// <param name="collector">The URI.</param>
    /// <returns>The endpoint and whether it is TCP.</returns>
    /// <exception cref="ArgumentException">The URI is malformed or its host has no address.</exception>
    public static (IPEndPoint Endpoint, bool Tcp) ParseCollector(string collector)
    {
        ArgumentNullException.ThrowIfNull(collector);
        if (!Uri.TryCreate(collector, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("udp" or "tcp"))
        {
            throw new ArgumentException($"IPFIX collector '{collector}' is not udp://HOST:PORT or tcp://HOST:PORT", nameof(collector));
        }

        if (uri.IsDefaultPort || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host) || uri.AbsolutePath is not ("" or "/"))
        {
            throw new ArgumentException($"IPFIX collector '{collector}' needs a host and a port (1-65535), nothing else", nameof(collector));
        }

        IPAddress? address;
        if (!IPAddress.TryParse(uri.DnsSafeHost, out address))
        {
            try
            {
                address = Dns.GetHostAddresses(uri.DnsSafeHost).FirstOrDefault();
            }
            catch (SocketException e)
            {
                throw new ArgumentException($"IPFIX collector '{collector}': host '{uri.DnsSafeHost}' does not resolve ({e.SocketErrorCode})", nameof(collector), e);
            }

            if (address is null)
            {
                throw new ArgumentException($"IPFIX collector '{collector}': host '{uri.DnsSafeHost}' has no address", nameof(collector));
            }
        }

        return (new IPEndPoint(address, uri.Port), uri.Scheme == "tcp");
    }

    /// <inheritdoc/>
    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        for (int i = 0; i < records.Length; i++)
        {
            ref readonly FlowRecord r = ref records[i];
            AppMetadata metadata = _metadata is null ? default : _metadata.ForRecord(i);
            Append(in r, false, metadata);
            if (!_options.Biflow && r.ReversePackets != 0)
            {
                Append(in r, true, metadata);
            }
        }
    }

    /// <summary>Sends the message being filled.</summary>
    public void Flush()
    {
        if (!_completed)
        {
            SendMessage();
        }
    }

    /// <summary>Sends the message being filled; for TCP waits (at most <see cref="IpfixExporterOptions.CompleteTimeout"/>) until the buffer is written, then closes.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }

        SendMessage();
        _completed = true;
        _transport.Complete();
    }

    /// <summary>Completes the exporter if it was not.</summary>
    public void Dispose()
    {
        Complete();
        _transport.Dispose();
    }

    private void Append(in FlowRecord r, bool reverse, AppMetadata metadata)
    {
        if (!_writer.TryAppend(in r, reverse, metadata))
        {
            SendMessage();
            bool appended = _writer.TryAppend(in r, reverse, metadata);
            System.Diagnostics.Debug.Assert(appended, "an empty message holds the largest record");
        }
    }

    private void SendMessage()
    {
        int records = _writer.RecordCount;
        if (records == 0)
        {
            return;
        }

        long now = _options.TimeProvider.GetTimestamp();
        uint exportTime = (uint)_options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (!_transport.IsStream && TemplatesDue(now))
        {
            int length = _writer.WriteTemplateMessage(_templateMessage, exportTime, _sequence);
            _transport.Send(_templateMessage.AsSpan(0, length), 0, template: true);
            _templatesSent = true;
            _templatesSentAt = now;
            _messagesSinceTemplates = 0;
        }

        _transport.Send(_writer.Finish(exportTime, _sequence), records, template: false);
        _sequence = unchecked(_sequence + (uint)records);
        _messagesSinceTemplates++;
    }

    private bool TemplatesDue(long now) =>
        !_templatesSent
        || (_options.TemplateRefreshMessages > 0 && _messagesSinceTemplates >= _options.TemplateRefreshMessages)
        || (_options.TemplateRefreshInterval > TimeSpan.Zero && _options.TimeProvider.GetElapsedTime(_templatesSentAt, now) >= _options.TemplateRefreshInterval);
}
