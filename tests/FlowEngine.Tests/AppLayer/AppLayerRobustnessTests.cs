// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Capture;
using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Capture;

namespace FlowEngine.Tests.AppLayer;

/// <summary>
/// Hostile input: real DNS, HTTP, TLS and SSH payloads from the corpus cut at every length and mutated at random go
/// through every parser, which must neither throw nor report ranges outside their input; and the metadata extension
/// runs over mutated frames of whole captures.
/// </summary>
public class AppLayerRobustnessTests
{
    private static readonly string[] s_sources =
    [
        "arkime/tests/pcap/tls-split-client-hello.pcap", "arkime/tests/pcap/curl-enabled-tls13.pcap", "arkime/tests/pcap/http-simple-get.pcap",
        "zeek/testing/btest/Traces/wikipedia.pcap", "zeek/testing/btest/Traces/tunnels/gre-sample.pcap", "nfstream/tests/pcaps/dns-tunnel-iodine.pcap",
    ];

    private static List<byte[]> Payloads()
    {
        var decoder = new PacketDecoder();
        var payloads = new List<byte[]>();
        foreach (string relative in s_sources)
        {
            var batch = new PacketBatch(256);
            using CaptureFileReader reader = CaptureFile.Open(Path.Combine(CaptureTestFiles.CorporaDirectory(), relative));
            while (reader.ReadBatch(batch) && payloads.Count < 400)
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    ReadOnlySpan<byte> frame = batch.GetFrame(i);
                    DecodedPacket p = default;
                    if (decoder.Decode(frame, batch.GetLinkType(i), ref p) && p.PayloadLength > 0 && p.PayloadOffset < frame.Length)
                    {
                        payloads.Add(frame.Slice(p.PayloadOffset, Math.Min(p.PayloadLength, frame.Length - p.PayloadOffset)).ToArray());
                    }
                }
            }
        }

        return payloads;
    }

    private static void ParseAll(ReadOnlySpan<byte> input, byte[] scratch)
    {
        Span<byte> name = stackalloc byte[64];
        if (DnsParser.TryParse(input, name, out DnsMessageInfo dns))
        {
            Assert.InRange(dns.QueryNameLength, 0, name.Length);
            Assert.InRange(dns.AnswerAddressCount, 0, AppMetadataLimits.DnsAddresses);
        }

        if (DnsParser.TryParseTcp(input, name, out _, out int consumed))
        {
            Assert.InRange(consumed, 0, input.Length);
        }

        if (HttpParser.TryParseRequest(input, out HttpRequestInfo request))
        {
            foreach (TextRange r in new[] { request.Method, request.Uri, request.Version, request.Host, request.UserAgent })
            {
                Assert.True(r.IsEmpty || (r.Start >= 0 && r.Start + r.Length <= input.Length), $"range {r} outside {input.Length}");
            }
        }

        if (HttpParser.TryParseResponse(input, out HttpResponseInfo response))
        {
            Assert.True(response.ContentType.IsEmpty || response.ContentType.Start + response.ContentType.Length <= input.Length);
        }

        if (SshBanner.TryParse(input, out TextRange banner))
        {
            Assert.True(banner.Start + banner.Length <= input.Length);
        }

        if (TlsRecordReader.TryReadHandshake(input, scratch, out TlsHandshake h))
        {
            Assert.InRange(h.Written, 0, scratch.Length);
            ReadOnlySpan<byte> body = scratch.AsSpan(0, h.Written)[Math.Min(4, h.Written)..];
            Span<byte> ja3 = stackalloc byte[32];
            Span<byte> ja4 = stackalloc byte[36];
            if (TlsClientHello.TryParse(body, out TlsClientHelloInfo hello))
            {
                Assert.True(hello.ServerName.IsEmpty || hello.ServerName.Start + hello.ServerName.Length <= body.Length);
                TlsClientHello.TryFingerprint(body, ja3, ja4, default, out _);
            }

            if (TlsServerHello.TryParse(body, out TlsServerHelloInfo server))
            {
                Assert.True(server.ExtensionCount >= 0);
                TlsServerHello.TryFingerprint(body, ja3);
            }
        }

        // The hello parsers straight over the bytes as well (lengths that lie from the first byte on).
        Assert.True(!TlsClientHello.TryParse(input, out TlsClientHelloInfo direct) || direct.CipherSuiteCount >= 0);
        Assert.True(!TlsServerHello.TryParse(input, out TlsServerHelloInfo directServer) || directServer.ExtensionCount >= 0);
    }

    [Fact]
    public void Parsers_EveryPrefixOfRealPayloads_NeverThrow()
    {
        byte[] scratch = new byte[1 << 14];
        List<byte[]> payloads = Payloads();
        Assert.True(payloads.Count > 100, $"{payloads.Count} payloads");
        foreach (byte[] payload in payloads)
        {
            for (int n = 0; n <= Math.Min(payload.Length, 700); n++)
            {
                ParseAll(payload.AsSpan(0, n), scratch);
            }
        }
    }

    [Fact]
    public void Parsers_RandomMutationsOfRealPayloads_NeverThrow()
    {
        byte[] scratch = new byte[1 << 14];
        var random = new Random(12);
        List<byte[]> payloads = Payloads();
        for (int round = 0; round < 20_000; round++)
        {
            byte[] copy = (byte[])payloads[random.Next(payloads.Count)].Clone();
            for (int k = random.Next(1, 6); k > 0 && copy.Length > 0; k--)
            {
                int at = random.Next(copy.Length);
                copy[at] = random.Next(3) switch { 0 => (byte)random.Next(256), 1 => 0xFF, _ => 0xC0 };
            }

            ParseAll(copy, scratch);
        }
    }

    [Fact]
    public void Extension_MutatedFramesOfWholeCaptures_NoExceptionAndEveryBlockReturned()
    {
        var random = new Random(5);
        var table = new AppMetadataTable(new AppMetadataOptions { MaxFlowsWithMetadata = 2, ReassemblyBuffers = 1 });
        var records = new List<FlowRecord>();
        using var pipeline = new FlowPipeline<AppMetadataExtension>(FlowSink.ToList(records), new FlowPipelineOptions(), new AppMetadataExtension(table));
        var batch = new PacketBatch(256, 256 * 2048);
        foreach (string relative in s_sources)
        {
            var input = new PacketBatch(256);
            using CaptureFileReader reader = CaptureFile.Open(Path.Combine(CaptureTestFiles.CorporaDirectory(), relative));
            while (reader.ReadBatch(input))
            {
                batch.Clear();
                for (int i = 0; i < input.Count; i++)
                {
                    byte[] frame = input.GetFrame(i).ToArray();
                    if (frame.Length > 60 && random.Next(2) == 0)
                    {
                        // Mutate past the headers, where the application bytes are.
                        frame[random.Next(54, frame.Length)] ^= (byte)random.Next(1, 256);
                    }

                    batch.TryAppendCopy(frame, frame.Length, input.GetTimestampNs(i), input.GetLinkType(i));
                }

                pipeline.ProcessBatch(batch);
            }
        }

        pipeline.Flush();
        AppMetadataStatistics s = table.Statistics;
        Assert.True(s.FlowsLabelled > 0);
        Assert.True(s.BlocksExhausted > 0, "2 blocks were never short");
        Assert.Equal(0, s.BlocksInUse);
    }
}
