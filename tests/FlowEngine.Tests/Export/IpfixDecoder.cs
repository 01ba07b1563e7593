// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace FlowEngine.Tests.Export;

/// <summary>
/// An IPFIX collector's parser written from RFC 7011 alone (it shares no code with the exporter): messages, template
/// sets and data sets, variable-length fields, and the invariants a collector relies on: version 10, message length
/// equal to the bytes received, set lengths adding up to it, data sets only for known templates, records filling
/// their set up to padding, and sequence numbers counting the data records before each message per domain.
/// </summary>
internal sealed class IpfixDecoder
{
    private readonly Dictionary<(uint Domain, ushort Id), IpfixField[]> _templates = [];
    private readonly Dictionary<uint, uint> _nextSequence = [];

    public List<IpfixDecodedRecord> Records { get; } = [];

    public int Messages { get; private set; }

    public int TemplateSets { get; private set; }

    public int TemplateOnlyMessages { get; private set; }

    /// <summary>Decodes a TCP stream: messages back to back, each as long as its header says.</summary>
    public void DecodeStream(ReadOnlySpan<byte> stream)
    {
        while (!stream.IsEmpty)
        {
            Assert.True(stream.Length >= 16, $"{stream.Length} bytes left: a truncated message header");
            int length = BinaryPrimitives.ReadUInt16BigEndian(stream[2..]);
            Assert.InRange(length, 16, stream.Length);
            DecodeMessage(stream[..length]);
            stream = stream[length..];
        }
    }

    public void DecodeMessage(ReadOnlySpan<byte> message)
    {
        Assert.True(message.Length >= 16, "message shorter than its header");
        Assert.Equal(10, BinaryPrimitives.ReadUInt16BigEndian(message));
        Assert.Equal(message.Length, BinaryPrimitives.ReadUInt16BigEndian(message[2..]));
        uint exportTime = BinaryPrimitives.ReadUInt32BigEndian(message[4..]);
        uint sequence = BinaryPrimitives.ReadUInt32BigEndian(message[8..]);
        uint domain = BinaryPrimitives.ReadUInt32BigEndian(message[12..]);
        Assert.True(exportTime > 1_000_000_000, $"export time {exportTime} is not a plausible Unix time");
        if (_nextSequence.TryGetValue(domain, out uint expected))
        {
            Assert.Equal(expected, sequence);
        }

        Messages++;
        int records = 0;
        bool onlyTemplates = true;
        ReadOnlySpan<byte> sets = message[16..];
        while (!sets.IsEmpty)
        {
            Assert.True(sets.Length >= 4, "a truncated set header");
            ushort setId = BinaryPrimitives.ReadUInt16BigEndian(sets);
            int setLength = BinaryPrimitives.ReadUInt16BigEndian(sets[2..]);
            Assert.InRange(setLength, 4, sets.Length);
            ReadOnlySpan<byte> body = sets[4..setLength];
            if (setId == 2)
            {
                TemplateSets++;
                DecodeTemplates(domain, body);
            }
            else
            {
                Assert.True(setId >= 256, $"set id {setId} is neither a template set (2) nor a data set (>= 256)");
                Assert.True(_templates.TryGetValue((domain, setId), out IpfixField[]? template), $"data set {setId} before its template");
                onlyTemplates = false;
                records += DecodeData(domain, sequence, exportTime, template, body);
            }

            sets = sets[setLength..];
        }

        if (onlyTemplates)
        {
            TemplateOnlyMessages++;
        }

        _nextSequence[domain] = unchecked(sequence + (uint)records);
    }

    private void DecodeTemplates(uint domain, ReadOnlySpan<byte> body)
    {
        while (body.Length >= 4)
        {
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(body);
            int count = BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
            Assert.True(id >= 256, $"template id {id} below 256");
            body = body[4..];
            var fields = new IpfixField[count];
            for (int i = 0; i < count; i++)
            {
                ushort element = BinaryPrimitives.ReadUInt16BigEndian(body);
                ushort length = BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
                uint pen = 0;
                body = body[4..];
                if ((element & 0x8000) != 0)
                {
                    pen = BinaryPrimitives.ReadUInt32BigEndian(body);
                    body = body[4..];
                    element &= 0x7FFF;
                }

                fields[i] = new IpfixField(element, length, pen);
            }

            _templates[(domain, id)] = fields;
        }

        Assert.True(body.IsEmpty, "padding after the last template");
    }

    private int DecodeData(uint domain, uint sequence, uint exportTime, IpfixField[] template, ReadOnlySpan<byte> body)
    {
        int minimum = template.Sum(f => f.Length == 0xFFFF ? 1 : f.Length);
        int records = 0;
        while (body.Length >= minimum)
        {
            var values = new Dictionary<(uint Pen, ushort Id), byte[]>();
            foreach (IpfixField f in template)
            {
                int length = f.Length;
                if (length == 0xFFFF)
                {
                    length = body[0];
                    body = body[1..];
                    if (length == 255)
                    {
                        length = BinaryPrimitives.ReadUInt16BigEndian(body);
                        body = body[2..];
                    }
                }

                Assert.True(body.Length >= length, "a field runs past its set");
                values[(f.Pen, f.Id)] = body[..length].ToArray();
                body = body[length..];
            }

            Records.Add(new IpfixDecodedRecord(domain, sequence, exportTime, values));
            records++;
        }

        Assert.True(body.IsEmpty || body.ToArray().All(b => b == 0), "non-zero bytes after the last record of a set");
        return records;
    }
}

internal readonly record struct IpfixField(ushort Id, ushort Length, uint Pen);

internal sealed record IpfixDecodedRecord(uint Domain, uint MessageSequence, uint ExportTime, Dictionary<(uint Pen, ushort Id), byte[]> Values)
{
    public bool Has(ushort id, uint pen = 0) => Values.ContainsKey((pen, id));

    public byte[] Bytes(ushort id, uint pen = 0) =>
        Values.TryGetValue((pen, id), out byte[]? v) ? v : throw new Xunit.Sdk.XunitException($"element {pen}/{id} missing");

    /// <summary>An unsigned integer of any encoded length (reduced-size encoding, RFC 7011 §6.2).</summary>
    public ulong U(ushort id, uint pen = 0)
    {
        ulong v = 0;
        foreach (byte b in Bytes(id, pen))
        {
            v = (v << 8) | b;
        }

        return v;
    }

    public string Text(ushort id, uint pen) => System.Text.Encoding.Latin1.GetString(Bytes(id, pen));
}
