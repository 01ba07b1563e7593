// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using FlowEngine.Detection;

namespace FlowEngine.Export.Siem;

/// <summary>
/// Alerts as ECS JSON Lines (<see cref="EcsAlertWriter"/>) streamed to a <see cref="Stream"/> (a file, stdout) through a
/// <see cref="PipeWriter"/>: each line is copied into the pipe's buffer and the pipe is flushed whenever the queue runs
/// empty, so bursts go out in few writes.
/// </summary>
public sealed class EcsFileAlertSink : QueuedAlertSink
{
    private readonly EcsAlertWriter _writer;
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly PipeWriter _pipe;

    /// <summary>Creates a sink.</summary>
    /// <param name="stream">Where the lines go.</param>
    /// <param name="ownsStream">Dispose the stream with the sink.</param>
    /// <param name="options">Observer names and limits.</param>
    /// <param name="capacity">Most alerts waiting.</param>
    public EcsFileAlertSink(Stream stream, bool ownsStream, SiemExportOptions? options = null, int capacity = 65536)
        : base(capacity)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _writer = new EcsAlertWriter(options);
        _stream = stream;
        _ownsStream = ownsStream;
        _pipe = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        Start();
    }

    /// <summary>Opens (creates or truncates) a file for the lines.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Observer names and limits.</param>
    /// <returns>The sink.</returns>
    public static EcsFileAlertSink Create(string path, SiemExportOptions? options = null) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true), ownsStream: true, options);

    /// <inheritdoc/>
    protected override byte[] Format(in Alert alert)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        _writer.Write(in alert, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <inheritdoc/>
    protected override async Task DeliverAsync(ChannelReader<byte[]> reader, CancellationToken cancel)
    {
        try
        {
            while (await reader.WaitToReadAsync(cancel).ConfigureAwait(false))
            {
                long n = 0;
                while (reader.TryRead(out byte[]? line))
                {
                    _pipe.Write(line);
                    n++;
                }

                await _pipe.FlushAsync(cancel).ConfigureAwait(false);
                CountSent(n);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or UnauthorizedAccessException)
        {
            // The file is gone or the drain time is over: what is left is lost, and counted.
            while (reader.TryRead(out _))
            {
                CountFailed();
            }
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask DisposeTransportAsync()
    {
        await _pipe.CompleteAsync().ConfigureAwait(false);
        await _stream.FlushAsync().ConfigureAwait(false);
        if (_ownsStream)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
