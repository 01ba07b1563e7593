// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Export;
using FlowEngine.Flows;

namespace FlowEngine.Sensor;

/// <summary>
/// Writes flow records as JSON Lines: the sensor's stable output contract (see README). The formatting is the
/// library's <see cref="FlowRecordJsonWriter"/>; this sink joins each record with its VMs and metadata and drains
/// the buffer to the stream in 32 KiB writes.
/// </summary>
internal sealed class FlowJsonWriter : IFlowSink, IDisposable
{
    private const int DrainBytes = 1 << 15;

    private readonly Stream _stream;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly FlowRecordJsonWriter _json;
    private readonly bool _ownsStream;
    private readonly AppMetadataTable? _metadata;
    private readonly VmIdentityTable? _vms;

    public FlowJsonWriter(Stream stream, bool ownsStream, AppMetadataTable? metadata = null, VmIdentityTable? vms = null, IVmStateSource? states = null)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _metadata = metadata;
        _vms = vms;
        _json = new FlowRecordJsonWriter(_buffer, states);
    }

    public long Count => _json.Count;

    public void OnFlows(ReadOnlySpan<FlowRecord> records)
    {
        for (int i = 0; i < records.Length; i++)
        {
            VmIdentity vms = _vms is null ? default : _vms.ForRecord(i);
            AppMetadata metadata = _metadata is null ? default : _metadata.ForRecord(i);
            _json.Write(in records[i], in vms, in metadata);
            if (_buffer.WrittenCount > DrainBytes)
            {
                Drain();
            }
        }
    }

    public void Complete() => Flush();

    public void Flush()
    {
        Drain();
        _stream.Flush();
    }

    public void Dispose()
    {
        Flush();
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    private void Drain()
    {
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }
}
