// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using FlowEngine.Detection;

namespace FlowEngine.Export.Siem;

/// <summary>
/// CEF alerts in RFC 5424 syslog messages (<see cref="SyslogMessage"/>) to a collector: over UDP one message per
/// datagram (RFC 5426), over TCP with octet-counted framing (<c>LENGTH SP MESSAGE</c>, RFC 6587 section 3.4.1) streamed
/// through a <see cref="PipeWriter"/> on the connection. TCP reconnects with capped exponential backoff and resends the
/// batch that was in flight (at least once; the structured data's id lets a receiver drop a duplicate); UDP is at most
/// once.
/// </summary>
public sealed class SyslogAlertSink : QueuedAlertSink
{
    private const int BatchMessages = 256;

    private readonly SyslogMessage _messages;
    private readonly EndPoint _endpoint;
    private Socket? _socket;
    private NetworkStream? _stream;
    private PipeWriter? _pipe;

    private SyslogAlertSink(SyslogTransport transport, EndPoint endpoint, SyslogMessage messages, int capacity)
        : base(capacity)
    {
        Transport = transport;
        _endpoint = endpoint;
        _messages = messages;
        Start();
    }

    /// <summary>The transport.</summary>
    public SyslogTransport Transport { get; private init; }

    /// <summary>The collector's address.</summary>
    public EndPoint Collector => _endpoint;

    /// <summary>Most time one TCP connection attempt may take.</summary>
    public TimeSpan ConnectTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Creates a sink from <c>udp://HOST:PORT</c> or <c>tcp://HOST:PORT</c>.</summary>
    /// <param name="collector">The collector's URI.</param>
    /// <param name="options">Names and limits.</param>
    /// <param name="facility">Syslog facility 0 to 23 (default 16, local0).</param>
    /// <param name="capacity">Most alerts waiting.</param>
    /// <returns>The sink; delivery starts at once.</returns>
    /// <exception cref="ArgumentException">The URI is not udp:// or tcp:// with a host and a port.</exception>
    public static SyslogAlertSink Create(string collector, SiemExportOptions? options = null, int facility = 16, int capacity = 16384)
    {
        (SyslogTransport transport, EndPoint endpoint) = Parse(collector);
        var messages = new SyslogMessage(options, facility, transport == SyslogTransport.Udp ? 2048 : 8192);
        return new SyslogAlertSink(transport, endpoint, messages, capacity);
    }

    /// <summary>Reads <c>udp://HOST:PORT</c> or <c>tcp://HOST:PORT</c>.</summary>
    /// <param name="collector">The URI.</param>
    /// <returns>The transport and the address (a name is resolved now).</returns>
    /// <exception cref="ArgumentException">Malformed, another scheme, no port, or a name that does not resolve.</exception>
    public static (SyslogTransport Transport, EndPoint Endpoint) Parse(string collector)
    {
        ArgumentNullException.ThrowIfNull(collector);
        if (!Uri.TryCreate(collector, UriKind.Absolute, out Uri? uri) || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host) || uri.AbsolutePath is not ("" or "/"))
        {
            throw new ArgumentException($"'{collector}' is not udp://HOST:PORT or tcp://HOST:PORT", nameof(collector));
        }

        SyslogTransport transport = uri.Scheme switch
        {
            "udp" => SyslogTransport.Udp,
            "tcp" => SyslogTransport.Tcp,
            _ => throw new ArgumentException($"'{collector}': the scheme must be udp or tcp", nameof(collector)),
        };
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out IPAddress? address))
        {
            return (transport, new IPEndPoint(address, uri.Port));
        }

        try
        {
            IPAddress[] addresses = Dns.GetHostAddresses(uri.Host);
            if (addresses.Length == 0)
            {
                throw new ArgumentException($"'{uri.Host}' has no address", nameof(collector));
            }

            return (transport, new IPEndPoint(addresses[0], uri.Port));
        }
        catch (SocketException e)
        {
            throw new ArgumentException($"'{uri.Host}' does not resolve: {e.Message}", nameof(collector), e);
        }
    }

    /// <inheritdoc/>
    protected override byte[] Format(in Alert alert)
    {
        byte[] message = _messages.Format(in alert);
        if (Transport == SyslogTransport.Udp)
        {
            return message;
        }

        // Octet counting: the message's length in decimal, a space, the message (RFC 6587 section 3.4.1).
        string prefix = message.Length.ToString(CultureInfo.InvariantCulture) + " ";
        byte[] frame = new byte[prefix.Length + message.Length];
        System.Text.Encoding.ASCII.GetBytes(prefix, frame);
        message.CopyTo(frame, prefix.Length);
        return frame;
    }

    /// <inheritdoc/>
    protected override Task DeliverAsync(ChannelReader<byte[]> reader, CancellationToken cancel) =>
        Transport == SyslogTransport.Udp ? DeliverUdpAsync(reader, cancel) : DeliverTcpAsync(reader, cancel);

    private async Task DeliverUdpAsync(ChannelReader<byte[]> reader, CancellationToken cancel)
    {
        using var socket = new Socket(_endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            while (await reader.WaitToReadAsync(cancel).ConfigureAwait(false))
            {
                while (reader.TryRead(out byte[]? datagram))
                {
                    try
                    {
                        await socket.SendToAsync(datagram, SocketFlags.None, _endpoint, cancel).ConfigureAwait(false);
                        CountSent();
                    }
                    catch (SocketException)
                    {
                        CountFailed();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            while (reader.TryRead(out _))
            {
                CountFailed();
            }
        }
    }

    private async Task DeliverTcpAsync(ChannelReader<byte[]> reader, CancellationToken cancel)
    {
        var batch = new List<byte[]>(BatchMessages);
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        try
        {
            while (batch.Count > 0 || await reader.WaitToReadAsync(cancel).ConfigureAwait(false))
            {
                while (batch.Count < BatchMessages && reader.TryRead(out byte[]? frame))
                {
                    batch.Add(frame);
                }

                try
                {
                    PipeWriter pipe = _pipe ?? await ConnectAsync(cancel).ConfigureAwait(false);
                    foreach (byte[] frame in batch)
                    {
                        pipe.Write(frame);
                    }

                    FlushResult flushed = await pipe.FlushAsync(cancel).ConfigureAwait(false);
                    if (flushed.IsCanceled || flushed.IsCompleted)
                    {
                        throw new IOException("the connection's pipe closed");
                    }

                    CountSent(batch.Count);
                    batch.Clear();
                    backoff = TimeSpan.FromMilliseconds(100);
                }
                catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    // The batch is resent on the next connection.
                    Disconnect();
                    CountRetry();
                    await Task.Delay(backoff, cancel).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                }
            }
        }
        catch (OperationCanceledException)
        {
            CountFailed(batch.Count);
            while (reader.TryRead(out _))
            {
                CountFailed();
            }
        }
    }

    private async Task<PipeWriter> ConnectAsync(CancellationToken cancel)
    {
        var socket = new Socket(_endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(ConnectTimeout);
            await socket.ConnectAsync(_endpoint, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            socket.Dispose();
            throw new IOException($"connecting to {_endpoint} timed out");
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _pipe = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        return _pipe;
    }

    private void Disconnect()
    {
        _pipe?.Complete();
        _pipe = null;
        _stream?.Dispose();
        _stream = null;
        _socket = null;
    }

    /// <inheritdoc/>
    protected override async ValueTask DisposeTransportAsync()
    {
        if (_pipe is not null)
        {
            await _pipe.CompleteAsync().ConfigureAwait(false);
        }

        _pipe = null;
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }

        _stream = null;
        _socket = null;
    }
}

/// <summary>How syslog messages travel.</summary>
public enum SyslogTransport
{
    /// <summary>One message per UDP datagram (RFC 5426).</summary>
    Udp,

    /// <summary>TCP with octet-counted framing (RFC 6587 section 3.4.1).</summary>
    Tcp,
}
