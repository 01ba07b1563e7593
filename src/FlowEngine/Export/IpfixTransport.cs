// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;

namespace FlowEngine.Export;

/// <summary>Where finished messages go.</summary>
internal abstract class IpfixTransport : IDisposable
{
    /// <summary>True for a stream (TCP): the templates go once per connection, written by the transport itself.</summary>
    public abstract bool IsStream { get; }

    /// <summary>Sends (or queues) one message; failures are counted, never thrown.</summary>
    public abstract void Send(ReadOnlySpan<byte> message, int records, bool template);

    /// <summary>Waits (bounded) until everything queued is sent, then closes; what is left is counted as dropped.</summary>
    public abstract void Complete();

    public abstract void Dispose();
}

/// <summary>UDP: one datagram per message, sent on the caller's thread over a connected socket (no allocation per send).</summary>
internal sealed class IpfixUdpTransport : IpfixTransport
{
    private readonly Socket _socket;
    private readonly IpfixCounters _counters;

    public IpfixUdpTransport(IPEndPoint collector, IpfixCounters counters)
    {
        _counters = counters;
        _socket = new Socket(collector.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.Connect(collector);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    public override bool IsStream => false;

    public override void Send(ReadOnlySpan<byte> message, int records, bool template)
    {
        try
        {
            int sent = _socket.Send(message, SocketFlags.None, out SocketError error);
            if (error == SocketError.Success && sent == message.Length)
            {
                _counters.Sent(message.Length, records, template);
                return;
            }
        }
        catch (ObjectDisposedException)
        {
        }

        // ICMP port unreachable from an earlier datagram (ECONNREFUSED), a full socket buffer, a closed socket.
        _counters.Dropped(1, records);
    }

    public override void Complete() => _socket.Dispose();

    public override void Dispose() => _socket.Dispose();
}
