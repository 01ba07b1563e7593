// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace FlowEngine.Export;

/// <summary>
/// TCP (RFC 7011 §10.4): finished messages are copied into a bounded ring of message slots and written by a sender
/// thread of their own, which connects, sends the templates first on every connection, and reconnects after an
/// error, resending the message that was being written in full. A message that finds the ring full is dropped and
/// counted; so is whatever is left when <see cref="Complete"/> has waited its time.
/// </summary>
internal sealed class IpfixTcpTransport : IpfixTransport
{
    private readonly IPEndPoint _collector;
    private readonly IpfixCounters _counters;
    private readonly IpfixMessageWriter _templates;
    private readonly IpfixExporterOptions _options;
    private readonly byte[][] _slots;
    private readonly int[] _lengths;
    private readonly int[] _records;
    private readonly byte[] _templateMessage;
    private readonly object _lock = new();
    private readonly Thread _thread;
    private int _head;
    private int _count;
    private bool _stopping;
    private long _deadlineTicks = long.MaxValue;
    private Socket? _socket;
    private bool _everConnected;

    public IpfixTcpTransport(IPEndPoint collector, IpfixCounters counters, IpfixMessageWriter templates, IpfixExporterOptions options)
    {
        _collector = collector;
        _counters = counters;
        _templates = templates;
        _options = options;
        int slots = Math.Max(2, options.TcpBufferBytes / options.MaxMessageBytes);
        _slots = new byte[slots][];
        for (int i = 0; i < slots; i++)
        {
            _slots[i] = GC.AllocateUninitializedArray<byte>(options.MaxMessageBytes);
        }

        _lengths = new int[slots];
        _records = new int[slots];
        _templateMessage = new byte[IpfixMessageWriter.HeaderBytes + templates.TemplateSet.Length];
        _thread = new Thread(Run) { IsBackground = true, Name = "IPFIX TCP sender" };
        _thread.Start();
    }

    public override bool IsStream => true;

    public override void Send(ReadOnlySpan<byte> message, int records, bool template)
    {
        lock (_lock)
        {
            if (_stopping || _count == _slots.Length)
            {
                _counters.Dropped(1, records);
                return;
            }

            int tail = (_head + _count) % _slots.Length;
            message.CopyTo(_slots[tail]);
            _lengths[tail] = message.Length;
            _records[tail] = records;
            _count++;
            Monitor.Pulse(_lock);
        }
    }

    public override void Complete()
    {
        lock (_lock)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            _deadlineTicks = Environment.TickCount64 + (long)_options.CompleteTimeout.TotalMilliseconds;
            Monitor.PulseAll(_lock);
        }

        _thread.Join();
        lock (_lock)
        {
            long records = 0;
            for (int i = 0; i < _count; i++)
            {
                records += _records[(_head + i) % _slots.Length];
            }

            if (_count > 0)
            {
                _counters.Dropped(_count, records);
            }

            _count = 0;
        }

        CloseSocket(graceful: true);
    }

    public override void Dispose() => Complete();

    private bool PastDeadline => Environment.TickCount64 >= Volatile.Read(ref _deadlineTicks);

    private void Run()
    {
        while (true)
        {
            int slot;
            lock (_lock)
            {
                while (_count == 0 && !_stopping)
                {
                    Monitor.Wait(_lock);
                }

                if (_count == 0 || (_stopping && PastDeadline))
                {
                    return;
                }

                slot = _head;
            }

            if (_socket is null && !TryConnect(slot))
            {
                lock (_lock)
                {
                    if (_stopping && PastDeadline)
                    {
                        return;
                    }

                    Monitor.Wait(_lock, _options.ReconnectDelay);
                }

                continue;
            }

            if (!TrySendAll(_slots[slot].AsSpan(0, _lengths[slot])))
            {
                continue;
            }

            lock (_lock)
            {
                _counters.Sent(_lengths[slot], _records[slot], template: false);
                _head = (_head + 1) % _slots.Length;
                _count--;
            }
        }
    }

    private bool TryConnect(int nextSlot)
    {
        Socket? socket = null;
        try
        {
            socket = new Socket(_collector.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = new CancellationTokenSource(_options.ConnectTimeout);
#pragma warning disable VSTHRD002 // The sender thread is dedicated and has no synchronization context to deadlock.
            socket.ConnectAsync(_collector, timeout.Token).AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
            socket.SendTimeout = (int)_options.ConnectTimeout.TotalMilliseconds;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket?.Dispose();
            _counters.ConnectionError();
            return false;
        }

        _socket = socket;
        if (_everConnected)
        {
            _counters.Reconnected();
        }

        _everConnected = true;

        // The templates first on every connection, with the sequence number of the data message that follows.
        uint sequence = BinaryPrimitives.ReadUInt32BigEndian(_slots[nextSlot].AsSpan(8));
        int length = _templates.WriteTemplateMessage(_templateMessage, (uint)_options.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), sequence);
        if (!TrySendAll(_templateMessage.AsSpan(0, length)))
        {
            return false;
        }

        _counters.Sent(length, 0, template: true);
        return true;
    }

    private bool TrySendAll(ReadOnlySpan<byte> message)
    {
        Socket? socket = _socket;
        if (socket is null)
        {
            return false;
        }

        try
        {
            while (!message.IsEmpty)
            {
                int n = socket.Send(message);
                message = message[n..];
            }

            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _counters.ConnectionError();
            CloseSocket(graceful: false);
            return false;
        }
    }

    private void CloseSocket(bool graceful)
    {
        Socket? socket = Interlocked.Exchange(ref _socket, null);
        if (socket is null)
        {
            return;
        }

        if (graceful)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
            }
        }

        socket.Dispose();
    }
}
