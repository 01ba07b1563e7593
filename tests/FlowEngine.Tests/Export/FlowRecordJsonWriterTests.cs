// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;
using FlowEngine.Capture;
using FlowEngine.Export;
using FlowEngine.Export.Json;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Export;

/// <summary>
/// The span formatting behind <see cref="FlowRecordJsonWriter"/> against its oracles: System.Text.Json's
/// <see cref="Utf8JsonWriter"/> for strings and numbers, <see cref="IPAddress.ToString()"/> for addresses.
/// </summary>
public class FlowRecordJsonWriterTests
{
    [Fact]
    public void Strings_AreEscapedAsUtf8JsonWriterEscapesThem_ForEveryBmpChar()
    {
        var chars = new StringBuilder();
        for (int c = 0; c <= 0xFFFF; c++)
        {
            if (!char.IsSurrogate((char)c))
            {
                chars.Append((char)c);
            }
        }

        chars.Append("😀 \U0001F600\U0010FFFF x");
        string all = chars.ToString();
        for (int start = 0; start < all.Length; start += 997)
        {
            string s = all.Substring(start, Math.Min(997, all.Length - start));
            Assert.Equal(Oracle(w => w.WriteStringValue(s)), Mine(s.Length * Utf8Text.EscapeExpansion, (d, ref p) => Utf8Text.String(d, ref p, s)));
        }
    }

    [Fact]
    public void WireBytes_AreDecodedAndEscapedAsEncodingUtf8ThenUtf8JsonWriter()
    {
        var random = new Random(16);
        for (int i = 0; i < 5000; i++)
        {
            byte[] bytes = new byte[random.Next(0, 40)];
            random.NextBytes(bytes);
            if (i % 2 == 0)
            {
                // Mostly-valid UTF-8 too, with multibyte sequences cut at random.
                byte[] text = Encoding.UTF8.GetBytes("h\u00E9llo \u20AC|=\\\r\n\U0001F600 /path?q=<a>&'b'+`");
                bytes = text[..random.Next(0, text.Length + 1)].Concat(bytes.Take(3)).ToArray();
            }

            string expected = Oracle(w => w.WriteStringValue(Encoding.UTF8.GetString(bytes)));
            Assert.Equal(expected, Mine(bytes.Length * Utf8Text.EscapeExpansion, (d, ref p) => Utf8Text.StringUtf8(d, ref p, bytes)));
        }
    }

    [Fact]
    public void Doubles_AreFormattedAsUtf8JsonWriterFormatsThem()
    {
        var random = new Random(7);
        var values = new List<double> { 0, -0.0, 1.5, 0.1, 1e20, 1e21, 1e-7, 123456789.123456, double.Epsilon, double.MaxValue };
        for (int i = 0; i < 20000; i++)
        {
            double v = (random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-9, 22));
            values.Add(v);
            values.Add(Math.Round(v, 6));
            values.Add(Math.Round((double)(float)v, 4));
            values.Add(Math.Round(v, 1));
        }

        foreach (double v in values)
        {
            Assert.Equal(Oracle(w => w.WriteNumberValue(v)), Mine(Utf8Text.MaxNumberBytes, (d, ref p) => Utf8Text.Double(d, ref p, v)));
        }

        // The fast path for rounded values (the VM gap with 6 digits, CPU with 4, disk rates with 1) against the oracle.
        values.AddRange([1e-4, 9.99999e-5, -1e-7, 0.00005, 123456789012345.6, 1e15, 4503599627370495.5, -2.5, 0.1 + 0.2]);
        foreach (double v in values.Concat(values.Select(x => x / 7)).Concat(values.Select(x => (double)(float)x)).Where(double.IsFinite))
        {
            foreach (int digits in new[] { 1, 4, 6 })
            {
                Assert.Equal(Oracle(w => w.WriteNumberValue(Math.Round(v, digits))), Mine(Utf8Text.MaxNumberBytes, (d, ref p) => Utf8Text.Rounded(d, ref p, v, digits)));
            }
        }
    }

    [Fact]
    public void Addresses_AreFormattedAsSystemNetFormatsThem()
    {
        var random = new Random(5952);
        Span<byte> raw = stackalloc byte[16];
        for (int i = 0; i < 50000; i++)
        {
            random.NextBytes(raw);
            // Zero runs of every length and place, and the prefixes System.Net prints with an embedded IPv4 address.
            for (int w = 0; w < 8; w++)
            {
                if (random.Next(3) == 0)
                {
                    raw[2 * w] = 0;
                    raw[(2 * w) + 1] = 0;
                }
            }

            switch (random.Next(8))
            {
                case 0:
                    raw[..12].Clear();
                    break;
                case 1:
                    raw[..10].Clear();
                    raw[10] = raw[11] = 0xFF;
                    break;
                case 2:
                    raw[..8].Clear();
                    raw[8] = raw[9] = 0xFF;
                    raw[10] = raw[11] = 0;
                    break;
                case 3:
                    raw[8] = raw[9] = 0;
                    raw[10] = 0x5E;
                    raw[11] = 0xFE;
                    break;
            }

            IpAddress a = IpAddress.ReadV6(raw);
            Assert.Equal(new IPAddress(raw).ToString(), Mine(Utf8Text.MaxIpBytes, (d, ref p) => Utf8Text.Ip(d, ref p, in a, 6)));
            IpAddress v4 = IpAddress.ReadV4(raw);
            Assert.Equal(new IPAddress(raw[..4]).ToString(), Mine(Utf8Text.MaxIpBytes, (d, ref p) => Utf8Text.Ip(d, ref p, in v4, 4)));
        }
    }

    [Fact]
    public void Timestamps_AreSecondsWithSixDecimals_FlooredToTheMicrosecond_AsTheSensorPrintedThem()
    {
        long[] cases = [0, 1, 999, 1000, 1_795_483_852_123_456_789, -1, -999, -1000, -1001, -1_500_000_000, long.MaxValue, long.MinValue + 1];
        foreach (long ns in cases)
        {
            string text = Mine(64, (d, ref p) => Utf8Text.Timestamp(d, ref p, ns));

            // The sensor's formatting before the span writer (seconds floored, then the microseconds): the contract.
            long us = ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
            long seconds = Math.DivRem(us, 1_000_000, out long micros);
            if (micros < 0)
            {
                seconds--;
                micros += 1_000_000;
            }

            Assert.Equal(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{seconds}.{micros:D6}"), text);
            if (ns >= 0)
            {
                Assert.Equal(Math.Floor(ns / 1000m) / 1_000_000m, decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    [Fact]
    public void LabFlows_AreValidJsonLines_OneObjectPerRecord_WithoutAllocating()
    {
        var flows = new List<FlowRecord>();
        using (var pipeline = new FlowPipeline(FlowSink.ToList(flows)))
        using (CaptureFileReader reader = CaptureFile.Open(Path.Combine(FlowEngine.Tests.Infrastructure.Repository.Root(), "samples", "data", "lab-small.pcapng")))
        {
            pipeline.Run(reader);
        }

        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var writer = new FlowRecordJsonWriter(buffer);
        writer.Write(flows[0]);
        buffer.ResetWrittenCount();
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (FlowRecord f in flows)
        {
            writer.Write(in f);
            if (buffer.WrittenCount > (1 << 19))
            {
                buffer.ResetWrittenCount();
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        buffer.ResetWrittenCount();
        foreach (FlowRecord f in flows)
        {
            writer.Write(in f);
        }

        string[] lines = Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n');
        Assert.Equal(flows.Count + 1, lines.Length);
        Assert.Equal(string.Empty, lines[^1]);
        for (int i = 0; i < flows.Count; i++)
        {
            JsonElement e = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal(flows[i].SourceAddress.ToString(flows[i].IpVersion), e.GetProperty("src_ip").GetString());
            Assert.Equal(flows[i].ForwardBytes, e.GetProperty("fwd_bytes").GetUInt64());
            Assert.Equal(flows[i].DestinationPort, e.GetProperty("dst_port").GetUInt16());
        }
    }

    private delegate void Format(Span<byte> dst, ref int pos);

    private static string Mine(int bound, Format format)
    {
        byte[] dst = new byte[bound + 2];
        int pos = 0;
        format(dst, ref pos);
        return Encoding.UTF8.GetString(dst, 0, pos);
    }

    private static string Oracle(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            write(w);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
