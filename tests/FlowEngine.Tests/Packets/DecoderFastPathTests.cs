// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CsCheck;
using FlowEngine.Capture;
using FlowEngine.Packets;
using FlowEngine.Tests.Capture;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Packets;

/// <summary>
/// The decoder's fast path (<c>PacketDecoder.TryDecodeFast</c>) against its general path (<c>DecodeGeneral</c>), the
/// reference: for every frame the fast path either declines, leaving a packet the general path still decodes exactly
/// as from the caller's, or produces a <see cref="DecodedPacket"/> byte-identical to the general path's (padding
/// included). Checked over the whole corpus, synthetic frames of every accepted shape and of near misses, every prefix
/// of those (also beside inaccessible pages, to catch unchecked reads past the frame), and random mutations; and the
/// fast path must actually accept the common shapes.
/// </summary>
public partial class DecoderFastPathTests
{
    private const string Outer4Src = "192.0.2.1";
    private const string Outer4Dst = "192.0.2.2";

    private static readonly PacketDecoder s_decoder = new();

    // Decoders whose settings change what the general path does with the same bytes.
    private static readonly Lazy<List<(string Name, PacketDecoder Decoder)>> s_decoders = new(() =>
    [
        ("default", s_decoder),
        ("MaxTags=0", new PacketDecoder(new DecoderOptions { MaxTags = 0 })),
        ("MaxTags=1", new PacketDecoder(new DecoderOptions { MaxTags = 1 })),
        ("MaxTunnelDepth=0", new PacketDecoder(new DecoderOptions { MaxTunnelDepth = 0 })),
        ("4789 is Geneve, 8472 VXLAN", GenevePort4789()),
        ("5000 is GRE-in-UDP", GreInUdpPort5000()),
    ]);

    private static readonly Lazy<List<Shape>> s_shapes = new(BuildShapes);

    private static readonly Lazy<List<CorpusFrame>> s_corpus = new(LoadCorpus);

    private sealed record Shape(string Name, byte[] Frame, bool Fast);

    private sealed record CorpusFrame(string Capture, int Index, byte[] Frame, LinkType Link, int WireLength, long TimestampNs);

    // ---------------------------------------------------------------- the tests

    [Fact]
    public void Corpus_EveryFrame_FastPathIdenticalToGeneralPath()
    {
        int fast = 0;
        int ethernet = 0;
        foreach (CorpusFrame c in s_corpus.Value)
        {
            if (c.Link == LinkType.Ethernet)
            {
                ethernet++;
            }

            if (AssertSameAsGeneral(s_decoder, c.Frame, c.Link, c.TimestampNs, c.WireLength, $"{c.Capture} packet {c.Index + 1}"))
            {
                fast++;
            }
        }

        // The corpus has plain and VXLAN traffic of the accepted shapes: the comparison must have exercised them.
        Assert.True(s_corpus.Value.Count > 10_000, $"only {s_corpus.Value.Count} corpus frames");
        Assert.True(fast > 1_000, $"the fast path took only {fast} of {ethernet} Ethernet corpus frames");
    }

    [Fact]
    public void Corpus_FastPathFrames_WithEveryDecoderSetting_IdenticalToGeneralPath()
    {
        foreach (CorpusFrame c in FastCorpusFrames())
        {
            foreach ((string name, PacketDecoder decoder) in s_decoders.Value)
            {
                AssertSameAsGeneral(decoder, c.Frame, c.Link, c.TimestampNs, c.WireLength, $"{c.Capture} packet {c.Index + 1} ({name})");
            }
        }
    }

    [Fact]
    public void SyntheticShapes_FastPathTakenExactlyForTheAcceptedShapes()
    {
        // Guards against a fast path that always declines (the differential tests would pass with one).
        var wrong = new List<string>();
        foreach (Shape s in s_shapes.Value)
        {
            DecodedPacket p = default;
            if (s_decoder.TryDecodeFast(s.Frame, ref p) != s.Fast)
            {
                wrong.Add($"{s.Name}: expected the fast path to {(s.Fast ? "accept" : "decline")} it");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(s_shapes.Value.Count(s => s.Fast) >= 20, "too few accepted shapes");
    }

    [Fact]
    public void SyntheticShapes_FastPathResultIsTheExpectedDecode()
    {
        // Beyond agreeing with the general path, the values themselves, for two representative frames.
        byte[] ts = TimestampOptions(0x01020304, 0x05060708);
        byte[] vxlan = Frames.Ethernet(
            0x0800,
            Frames.IPv4(Outer4Src, Outer4Dst, 17, Frames.Udp(49152, 4789, Frames.Vxlan(0xABCDE, Frames.Ethernet(0x86DD, Frames.IPv6("fd00::1", "fd00::2", 6, Frames.Tcp(40000, 443, 0x10, new byte[7], ts)), 300)))),
            12);
        DecodedPacket p = default;
        p.TimestampNs = 77;
        Assert.True(s_decoder.TryDecodeFast(vxlan, ref p));
        Assert.Equal(77, p.TimestampNs);
        Assert.Equal(vxlan.Length, p.WireLength);
        Assert.Equal(VirtualNetworkKind.Vxlan, p.VnKind);
        Assert.Equal(0xABCDEu, p.VnId);
        Assert.Equal(((ushort)12, (ushort)300, (byte)2), (p.OuterVlanId, p.InnerVlanId, p.VlanCount));
        Assert.Equal(1, p.TunnelDepth);
        Assert.Equal(((byte)4, (byte)6), (p.OuterIpVersion, p.IpVersion));
        Assert.Equal(Outer4Src, p.OuterSource.ToString(4));
        Assert.Equal("fd00::2", p.Destination.ToString(6));
        Assert.Equal(((ushort)40000, (ushort)443), (p.SourcePort, p.DestinationPort));
        Assert.Equal(PacketFlags.HasTransport | PacketFlags.HasTcpOptions, p.Flags);
        Assert.Equal((0x01020304u, 0x05060708u), (p.TcpTsVal, p.TcpTsEcr));
        Assert.Equal(0xFF, p.TcpWindowScale);
        int innerIp = 18 + 20 + 8 + 8 + 18;
        Assert.Equal((innerIp, innerIp + 40, innerIp + 40 + 32, 7), (p.IpOffset, p.TransportOffset, p.PayloadOffset, p.PayloadLength));

        byte[] plain = Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(53, 5353, new byte[5])), 44);
        p = default;
        p.WireLength = plain.Length + 4;
        Assert.True(s_decoder.TryDecodeFast(plain, ref p));
        Assert.Equal((VirtualNetworkKind.Vlan, 44u), (p.VnKind, p.VnId));
        Assert.Equal(0, p.TunnelDepth);
        Assert.Equal(p.Source, p.OuterSource);
        Assert.Equal(plain.Length + 4, p.WireLength);
        Assert.Equal((18 + 20 + 8, 5), (p.PayloadOffset, p.PayloadLength));
    }

    [Fact]
    public void SyntheticShapes_WithEveryDecoderSettingAndWireLength_IdenticalToGeneralPath()
    {
        foreach (Shape s in s_shapes.Value)
        {
            foreach ((string name, PacketDecoder decoder) in s_decoders.Value)
            {
                foreach (int wire in WireLengths(s.Frame.Length))
                {
                    AssertSameAsGeneral(decoder, s.Frame, LinkType.Ethernet, 1_700_000_000_000_000_000, wire, $"{s.Name} ({name}, wire {wire})");
                }
            }

            // The fast path is for Ethernet only: other link types go to the general path unchanged.
            AssertSameAsGeneral(s_decoder, s.Frame, LinkType.Raw, 5, 0, $"{s.Name} as raw IP");
        }
    }

    [Fact]
    public void SyntheticShapes_EveryPrefix_IdenticalToGeneralPath()
    {
        // Snap-truncated captures (wire length = the whole frame) and frames that end early (wire length = capture).
        long compared = 0;
        foreach (Shape s in s_shapes.Value)
        {
            for (int length = 0; length <= s.Frame.Length; length++)
            {
                byte[] prefix = s.Frame[..length];
                AssertSameAsGeneral(s_decoder, prefix, LinkType.Ethernet, 3, s.Frame.Length, $"{s.Name} prefix {length}");
                AssertSameAsGeneral(s_decoder, prefix, LinkType.Ethernet, 3, 0, $"{s.Name} prefix {length}, wire 0");
                compared += 2;
            }
        }

        Assert.True(compared > 5_000, $"only {compared} prefixes");
    }

    [Fact]
    public void SyntheticShapes_RandomMutations_IdenticalToGeneralPath()
    {
        List<byte[]> seeds = s_shapes.Value.Select(s => s.Frame).ToList();
        AssertMutationsSameAsGeneral(seeds, 150_000, "0001FastPath");
    }

    [Fact]
    public void CorpusFastPathFrames_RandomMutations_IdenticalToGeneralPath()
    {
        // Real traffic of the accepted shapes, one frame per distinct (length, first 64 bytes) to keep the pool varied.
        List<byte[]> seeds = FastCorpusFrames()
            .GroupBy(c => (c.Frame.Length, Convert.ToHexString(c.Frame.AsSpan(0, Math.Min(64, c.Frame.Length)))))
            .Select(g => g.First().Frame)
            .Take(2_000)
            .ToList();
        Assert.NotEmpty(seeds);
        AssertMutationsSameAsGeneral(seeds, 100_000, "0002FastPath");
    }

    [Fact]
    public unsafe void EveryPrefixBesideGuardPages_NoReadOutsideTheFrame()
    {
        // Unchecked reads past the frame would not throw in a managed array: place each prefix so that it ends where
        // an inaccessible page begins, and so that it starts where one ends; a stray read kills the test process.
        if (!OperatingSystem.IsLinux())
        {
            return; // needs mmap and mprotect
        }

        int page = Environment.SystemPageSize;
        byte* region = (byte*)Libc.Mmap(0, (nuint)(3 * page), Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous, -1, 0);
        Assert.True(region != (byte*)-1, "mmap failed");
        try
        {
            Assert.Equal(0, Libc.Mprotect(region, (nuint)page, Libc.ProtNone));
            Assert.Equal(0, Libc.Mprotect(region + (2 * page), (nuint)page, Libc.ProtNone));
            byte* data = region + page;
            List<byte[]> frames = s_shapes.Value.Select(s => s.Frame)
                .Concat(FastCorpusFrames().Select(c => c.Frame).Where(f => f.Length <= page).DistinctBy(f => f.Length).Take(200))
                .ToList();
            long compared = 0;
            foreach (byte[] frame in frames)
            {
                for (int length = 0; length <= frame.Length; length++)
                {
                    var atEnd = new Span<byte>(data + page - length, length);
                    frame.AsSpan(0, length).CopyTo(atEnd);
                    AssertSameAsGeneral(s_decoder, atEnd, LinkType.Ethernet, 1, frame.Length, $"prefix {length} ending at a guard page");
                    var atStart = new Span<byte>(data, length);
                    frame.AsSpan(0, length).CopyTo(atStart);
                    AssertSameAsGeneral(s_decoder, atStart, LinkType.Ethernet, 1, 0, $"prefix {length} starting at a guard page");
                    compared += 2;
                }
            }

            Assert.True(compared > 50_000, $"only {compared} prefixes");
        }
        finally
        {
            Assert.Equal(0, Libc.Munmap(region, (nuint)(3 * page)));
        }
    }

    // ---------------------------------------------------------------- comparison

    private static void AssertMutationsSameAsGeneral(List<byte[]> seeds, long iterations, string seed)
    {
        PacketDecoder[] decoders = s_decoders.Value.Select(d => d.Decoder).ToArray();
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int.Array[1, 6], Gen.Byte.Array[1, 6], Gen.Int[0, 3], Gen.Int[0, decoders.Length - 1])
            .Sample(
                t =>
                {
                    (int index, int[] positions, byte[] values, int wireMode, int decoderIndex) = t;
                    byte[] frame = (byte[])seeds[index].Clone();
                    for (int i = 0; i < positions.Length; i++)
                    {
                        frame[(int)((uint)positions[i] % (uint)frame.Length)] = values[i % values.Length];
                    }

                    // Sometimes also cut the frame, as a snap length would.
                    if (wireMode == 3)
                    {
                        frame = frame[..(int)((uint)positions[0] % (uint)(frame.Length + 1))];
                    }

                    int wire = wireMode switch
                    {
                        0 => 0,
                        1 => frame.Length - 1,
                        _ => seeds[index].Length,
                    };
                    AssertSameAsGeneral(decoders[decoderIndex], frame, LinkType.Ethernet, 11, wire, $"mutation of seed {index}");
                },
                iter: iterations,
                threads: 1,
                seed: seed);
    }

    /// <summary>
    /// Decodes <paramref name="frame"/> with Decode, DecodeGeneral and TryDecodeFast, each starting from the same
    /// garbage-filled packet holding the caller's timestamp and wire length, and asserts they agree byte for byte.
    /// </summary>
    /// <returns>Whether the fast path accepted the frame.</returns>
    private static bool AssertSameAsGeneral(PacketDecoder decoder, ReadOnlySpan<byte> frame, LinkType link, long timestampNs, int wireLength, string what)
    {
        DecodedPacket start = Garbage(timestampNs, wireLength);

        DecodedPacket general = start;
        bool generalResult = decoder.DecodeGeneral(frame, link, ref general);

        DecodedPacket decoded = start;
        bool decodeResult = decoder.Decode(frame, link, ref decoded);
        if (decodeResult != generalResult || !SameBytes(in decoded, in general))
        {
            Assert.Fail($"{what}: Decode returned {decodeResult}, DecodeGeneral {generalResult}; {Differences(in decoded, in general)}\nframe {Convert.ToHexString(frame)}");
        }

        if (link != LinkType.Ethernet)
        {
            return false;
        }

        DecodedPacket fast = start;
        bool fastResult = decoder.TryDecodeFast(frame, ref fast);
        if (fastResult)
        {
            if (!generalResult || !SameBytes(in fast, in general))
            {
                Assert.Fail($"{what}: the fast path accepted the frame, DecodeGeneral returned {generalResult} ({general.Reject}); {Differences(in fast, in general)}\nframe {Convert.ToHexString(frame)}");
            }
        }
        else
        {
            // Declined: it may have written part of a result, but the general path must still decode the packet
            // as if from the caller's (Decode relies on this).
            bool again = decoder.DecodeGeneral(frame, link, ref fast);
            if (again != generalResult || !SameBytes(in fast, in general))
            {
                Assert.Fail($"{what}: after the fast path declined, DecodeGeneral returned {again} (from scratch {generalResult}); {Differences(in fast, in general)}");
            }
        }

        return fastResult;
    }

    // Every byte set (padding too), then the two fields the caller sets: the decoder must overwrite all the others.
    private static DecodedPacket Garbage(long timestampNs, int wireLength)
    {
        DecodedPacket p = default;
        MemoryMarshal.AsBytes(new Span<DecodedPacket>(ref p)).Fill(0xA5);
        p.TimestampNs = timestampNs;
        p.WireLength = wireLength;
        return p;
    }

    private static bool SameBytes(in DecodedPacket a, in DecodedPacket b) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<DecodedPacket>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<DecodedPacket>(in b)));

    private static string Differences(in DecodedPacket actual, in DecodedPacket expected)
    {
        var fields = new List<string>();
        object a = actual;
        object e = expected;
        foreach (var field in typeof(DecodedPacket).GetFields())
        {
            object? av = field.GetValue(a);
            object? ev = field.GetValue(e);
            if (!Equals(av, ev))
            {
                fields.Add($"{field.Name} {av} (expected {ev})");
            }
        }

        return fields.Count == 0 ? "fields equal, padding differs" : string.Join(", ", fields);
    }

    private static IEnumerable<int> WireLengths(int frameLength) =>
        [0, frameLength, frameLength - 1, frameLength + 1, frameLength + 1000, 65535];

    // ---------------------------------------------------------------- frames

    private static List<CorpusFrame> LoadCorpus()
    {
        var frames = new List<CorpusFrame>();
        var batch = new PacketBatch(256);
        foreach (var capture in CaptureTestFiles.CorpusCaptures())
        {
            string name = Path.GetRelativePath(CaptureTestFiles.CorporaDirectory(), capture.Path);
            using CaptureFileReader reader = CaptureFile.Open(capture.Path);
            int index = 0;
            try
            {
                while (reader.ReadBatch(batch))
                {
                    for (int i = 0; i < batch.Count; i++, index++)
                    {
                        frames.Add(new CorpusFrame(name, index, batch.GetFrame(i).ToArray(), batch.GetLinkType(i), batch.GetWireLength(i), batch.GetTimestampNs(i)));
                    }
                }
            }
            catch (CaptureFormatException)
            {
                // Damaged corpus files: the packets before the damage are compared.
            }
        }

        return frames;
    }

    private static IEnumerable<CorpusFrame> FastCorpusFrames() => s_corpus.Value.Where(c =>
    {
        if (c.Link != LinkType.Ethernet)
        {
            return false;
        }

        DecodedPacket p = default;
        p.WireLength = c.WireLength;
        return s_decoder.TryDecodeFast(c.Frame, ref p);
    });

    private static PacketDecoder GenevePort4789()
    {
        var options = new DecoderOptions();
        options.GenevePorts.Add(4789);
        options.VxlanPorts.Add(8472);
        return new PacketDecoder(options);
    }

    private static PacketDecoder GreInUdpPort5000()
    {
        var options = new DecoderOptions();
        options.GreInUdpPorts.Add(5000);
        return new PacketDecoder(options);
    }

    private static byte[] TimestampOptions(uint tsVal, uint tsEcr)
    {
        byte[] o = [1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), tsVal);
        BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(8), tsEcr);
        return o;
    }

    private static byte[] Tcp4(byte[]? options = null, int payload = 10, string src = "10.0.0.1", string dst = "10.0.0.2") =>
        Frames.IPv4(src, dst, 6, Frames.Tcp(40000, 443, 0x18, new byte[payload], options));

    private static byte[] Udp4(ushort dport = 53, int payload = 10) =>
        Frames.IPv4("10.0.0.1", "10.0.0.2", 17, Frames.Udp(33000, dport, new byte[payload]));

    private static byte[] Tcp6(byte[]? options = null, int payload = 10) =>
        Frames.IPv6("fd00::1", "fd00::2", 6, Frames.Tcp(40000, 443, 0x18, new byte[payload], options));

    private static byte[] Udp6(ushort dport = 53, int payload = 10) =>
        Frames.IPv6("fd00::1", "fd00::2", 17, Frames.Udp(33000, dport, new byte[payload]));

    private static byte[] Vxlan(byte[] innerFrame, ushort port = 4789, uint vni = 5001) =>
        Frames.IPv4(Outer4Src, Outer4Dst, 17, Frames.Udp(49152, port, Frames.Vxlan(vni, innerFrame)));

    private static byte[] Eth4(byte[] ip, params ushort[] tags) => Frames.Ethernet(0x0800, ip, tags);

    private static byte[] Eth6(byte[] ip, params ushort[] tags) => Frames.Ethernet(0x86DD, ip, tags);

    // Two 802.1Q (0x8100) tags; Frames.Ethernet makes the outer of two an 802.1ad tag.
    private static byte[] DoubleDot1Q(ushort etherType, byte[] payload, ushort outer, ushort inner) =>
        Frames.Ethernet(0x8100, [(byte)(inner >> 8), (byte)inner, (byte)(etherType >> 8), (byte)etherType, .. payload], outer);

    private static byte[] Patch(byte[] frame, int offset, params byte[] bytes)
    {
        byte[] copy = (byte[])frame.Clone();
        bytes.CopyTo(copy, offset);
        return copy;
    }

    private static byte[] PatchBe16(byte[] frame, int offset, int value) => Patch(frame, offset, (byte)(value >> 8), (byte)value);

    // An IPv4 packet with 4 bytes of options (IHL 6): the NOP option four times.
    private static byte[] WithIPv4Options(byte[] ip)
    {
        byte[] r = [.. ip[..20], 1, 1, 1, 1, .. ip[20..]];
        r[0] = 0x46;
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(2), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(2)) + 4));
        return r;
    }

    private static List<Shape> BuildShapes()
    {
        byte[] ts = TimestampOptions(123456, 654321);
        byte[] tsReordered = [8, 10, 0, 1, 0, 2, 0, 3, 0, 4, 1, 1];
        byte[] synOptions = [2, 4, 5, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];
        byte[] twelveOther = [2, 4, 5, 0xB4, 4, 2, 1, 1, 1, 3, 3, 7];
        byte[] mss = [2, 4, 5, 0xB4];
        byte[] overlong = [2, 40, 5, 0xB4, 1, 1, 1, 1];
        byte[] tsEol = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0];
        const int O = 14 + 20 + 8 + 8; // inner Ethernet offset in an untagged VXLAN frame
        const int I = O + 14;          // inner IP offset

        byte[] vxTcp4 = Eth4(Vxlan(Eth4(Tcp4())));
        byte[] vxTcp4Ts = Eth4(Vxlan(Eth4(Tcp4(ts, 100))));
        byte[] vxUdp4 = Eth4(Vxlan(Eth4(Udp4())));
        byte[] vxTcp6Ts = Eth4(Vxlan(Eth6(Tcp6(ts))));
        byte[] vxUdp6 = Eth4(Vxlan(Eth6(Udp6())));
        byte[] plainTcp4 = Eth4(Tcp4());
        byte[] plainUdp4 = Eth4(Udp4());
        byte[] plainTcp6 = Eth6(Tcp6(ts));

        var shapes = new List<Shape>
        {
            // Accepted: plain.
            new("plain IPv4 TCP", plainTcp4, true),
            new("plain IPv4 TCP no payload", Eth4(Tcp4(payload: 0)), true),
            new("plain IPv4 TCP timestamps", Eth4(Tcp4(ts, 200)), true),
            new("plain IPv4 UDP", plainUdp4, true),
            new("plain IPv4 UDP empty", Eth4(Udp4(payload: 0)), true),
            new("plain IPv4 UDP padded to 60", [.. Eth4(Udp4(payload: 0)), .. new byte[18]], true),
            new("plain IPv4 UDP DF", PatchBe16(plainUdp4, 14 + 6, 0x4000), true),
            new("plain IPv4 UDP reserved flag", PatchBe16(plainUdp4, 14 + 6, 0x8000), true),
            new("plain IPv4 UDP length below IP payload", PatchBe16(plainUdp4, 14 + 20 + 4, 9), true),
            new("plain IPv6 TCP timestamps", plainTcp6, true),
            new("plain IPv6 TCP", Eth6(Tcp6()), true),
            new("plain IPv6 UDP", Eth6(Udp6()), true),
            new("plain IPv4 TCP VLAN", Eth4(Tcp4(ts), 100), true),
            new("plain IPv6 UDP VLAN", Eth6(Udp6(), 4094), true),
            new("plain IPv4 TCP VLAN 0 (priority tag)", Eth4(Tcp4(), 0), true),
            new("plain IPv4 TCP VLAN with PCP", Eth4(Tcp4(), 0xE00A), true),

            // Accepted: VXLAN.
            new("VXLAN IPv4 TCP", vxTcp4, true),
            new("VXLAN IPv4 TCP timestamps", vxTcp4Ts, true),
            new("VXLAN IPv4 UDP", vxUdp4, true),
            new("VXLAN IPv6 TCP timestamps", vxTcp6Ts, true),
            new("VXLAN IPv6 UDP", vxUdp6, true),
            new("VXLAN VNI 0", Eth4(Vxlan(Eth4(Tcp4()), vni: 0)), true),
            new("VXLAN VNI max", Eth4(Vxlan(Eth4(Tcp4()), vni: 0xFFFFFF)), true),
            new("VXLAN outer VLAN", Eth4(Vxlan(Eth4(Tcp4(ts))), 42), true),
            new("VXLAN inner VLAN", Eth4(Vxlan(Eth4(Tcp4(ts), 300))), true),
            new("VXLAN inner VLAN 0", Eth4(Vxlan(Eth4(Tcp4(ts), 0))), true),
            new("VXLAN outer VLAN 0, inner VLAN", Eth4(Vxlan(Eth6(Udp6(), 300)), 0), true),
            new("VXLAN outer and inner VLAN", Eth4(Vxlan(Eth6(Tcp6(ts), 300)), 42), true),
            new("VXLAN outer DF", PatchBe16(vxTcp4, 14 + 6, 0x4000), true),
            new("VXLAN outer UDP length short of IP payload", PatchBe16(vxTcp4, 14 + 20 + 4, 8), true),
            new("VXLAN inner IPv4 DF", PatchBe16(vxTcp4, I + 6, 0x4000), true),
            new("VXLAN padded", [.. vxUdp4, .. new byte[30]], true),
            new(
                "VXLAN beyond the outer IP length (outer total 28)",
                PatchBe16(PatchBe16(vxTcp4, 14 + 2, 28), 14 + 20 + 4, 8),
                true),
            new("VXLAN inner IPv4 shorter than its frame", PatchBe16(vxUdp4, I + 2, 20 + 8), false),

            // Declined: the general path's business.
            new("VXLAN reserved flag bits", Patch(vxTcp4, 14 + 20 + 8, 0x0C), false),
            new("VXLAN flags 0 (I clear)", Patch(vxTcp4, 14 + 20 + 8, 0x00), false),
            new("VXLAN reserved byte 1", Patch(vxTcp4, 14 + 20 + 8 + 1, 0x01), false),
            new("VXLAN reserved byte 3", Patch(vxTcp4, 14 + 20 + 8 + 3, 0x03), false),
            new("VXLAN reserved byte 7", Patch(vxTcp4, 14 + 20 + 8 + 7, 0x80), false),
            new("VXLAN-GPE port", Eth4(Vxlan(Eth4(Tcp4()), port: 4790)), false),
            new("VXLAN-GPE port, next protocol IPv4", Patch(Eth4(Vxlan(Tcp4(), port: 4790)), 14 + 20 + 8, 0x0C, 0, 0, 1), false),
            new("VXLAN on port 8472 (not configured)", Eth4(Vxlan(Eth4(Tcp4()), port: 8472)), true),
            new("Geneve", Eth4(Frames.IPv4(Outer4Src, Outer4Dst, 17, Frames.Udp(49152, 6081, Frames.Geneve(7, 0x6558, [], Eth4(Tcp4()))))), false),
            new("GRE-in-UDP", Eth4(Frames.IPv4(Outer4Src, Outer4Dst, 17, Frames.Udp(49152, 4754, Frames.Gre(0x0800, null, Tcp4())))), false),
            new("GRE", Eth4(Frames.IPv4(Outer4Src, Outer4Dst, 47, Frames.Gre(0x6558, 99, Eth4(Tcp4())))), false),
            new("IP-in-IP", Eth4(Frames.IPv4(Outer4Src, Outer4Dst, 4, Tcp4())), false),
            new("VXLAN over IPv6", Eth6(Frames.IPv6("2001:db8::1", "2001:db8::2", 17, Frames.Udp(49152, 4789, Frames.Vxlan(5, Eth4(Tcp4()))))), false),
            new("VXLAN outer QinQ", Eth4(Vxlan(Eth4(Tcp4())), 10, 20), false),
            new("VXLAN outer double 802.1Q", DoubleDot1Q(0x0800, Vxlan(Eth4(Tcp4())), 10, 20), false),
            new("VXLAN inner QinQ", Eth4(Vxlan(Eth4(Tcp4(), 10, 20))), false),
            new("VXLAN inner double 802.1Q", Eth4(Vxlan(DoubleDot1Q(0x0800, Tcp4(), 10, 20))), false),
            new("plain QinQ", Eth4(Tcp4(), 10, 20), false),
            new("plain double 802.1Q", DoubleDot1Q(0x86DD, Tcp6(), 10, 20), false),
            new("plain 802.1ad only", PatchBe16(Eth4(Tcp4(), 10), 12, 0x88A8), false),
            new("VXLAN outer fragment MF", PatchBe16(vxTcp4, 14 + 6, 0x2000), false),
            new("VXLAN outer fragment offset", PatchBe16(vxTcp4, 14 + 6, 0x0001), false),
            new("VXLAN inner fragment MF", PatchBe16(vxTcp4, I + 6, 0x2000), false),
            new("VXLAN inner fragment offset", PatchBe16(vxTcp4, I + 6, 0x0003), false),
            new("plain fragment MF", Eth4(Frames.IPv4("10.0.0.1", "10.0.0.2", 6, Frames.Tcp(1, 2, 0x10, new byte[10]), fragment: 0x2000)), false),
            new("plain fragment offset", Eth4(Frames.IPv4("10.0.0.1", "10.0.0.2", 17, new byte[40], fragment: 0x0010)), false),
            new("VXLAN outer IHL 6", Eth4(WithIPv4Options(Vxlan(Eth4(Tcp4())))), false),
            new("VXLAN inner IHL 6", Eth4(Vxlan(Eth4(WithIPv4Options(Tcp4())))), false),
            new("plain IHL 6", Eth4(WithIPv4Options(Tcp4())), false),
            new("plain IHL 4", Patch(plainTcp4, 14, 0x44), false),
            new("plain IPv6 in an IPv4 EtherType", Eth4(Tcp6()), false),
            new("plain IPv4 in an IPv6 EtherType", Eth6(Tcp4()), false),
            new("plain IPv6 hop-by-hop", Eth6(Frames.IPv6("fd00::1", "fd00::2", 0, Frames.Extension(6, Frames.Tcp(1, 2, 0x10, [])))), false),
            new("VXLAN inner IPv6 destination options", Eth4(Vxlan(Eth6(Frames.IPv6("fd00::1", "fd00::2", 60, Frames.Extension(17, Frames.Udp(1, 2, [0])))))), false),
            new("VXLAN inner IPv6 fragment header", Eth4(Vxlan(Eth6(Frames.IPv6("fd00::1", "fd00::2", 44, [17, 0, 0, 1, 0, 0, 0, 9, .. Frames.Udp(1, 2, [])])))), false),
            new("VXLAN inner ICMP", Eth4(Vxlan(Eth4(Frames.IPv4("10.0.0.1", "10.0.0.2", 1, Frames.Icmp(8, 0, 1, [1, 2]))))), false),
            new("VXLAN inner ICMPv6", Eth4(Vxlan(Eth6(Frames.IPv6("fd00::1", "fd00::2", 58, Frames.Icmp(128, 0, 1, []))))), false),
            new("plain SCTP", Eth4(Frames.IPv4("10.0.0.1", "10.0.0.2", 132, new byte[16])), false),
            new("VXLAN inner ARP", Eth4(Vxlan(Frames.Ethernet(0x0806, new byte[28]))), false),
            new("plain ARP", Frames.Ethernet(0x0806, new byte[46]), false),
            new("VXLAN in VXLAN", Eth4(Vxlan(Eth4(Vxlan(Eth4(Tcp4()))))), false),
            new("VXLAN inner UDP to VXLAN-GPE port", Eth4(Vxlan(Eth4(Udp4(4790)))), false),
            new("VXLAN inner UDP to Geneve port", Eth4(Vxlan(Eth6(Udp6(6081)))), false),
            new("plain UDP to VXLAN-GPE port", Eth4(Udp4(4790)), false),
            new("plain IPv6 UDP to VXLAN port", Eth6(Udp6(4789)), false),
            new("plain IPv4 UDP to VXLAN port, no room for VXLAN", Eth4(Udp4(4789, 0)), false),
            new("plain IPv4 UDP to VXLAN port, VXLAN only", Eth4(Udp4(4789, 8)), false),
            new("TCP MSS option", Eth4(Tcp4(mss)), true),
            new("TCP SYN options", Eth4(Tcp4(synOptions, 0)), true),
            new("TCP 12 option bytes, other layout", Eth4(Tcp4(twelveOther)), true),
            new("TCP timestamps not after NOP NOP", Eth6(Tcp6(tsReordered)), true),
            new("TCP timestamps then EOL padding", Eth4(Tcp4(tsEol)), true),
            new("VXLAN inner TCP MSS", Eth4(Vxlan(Eth4(Tcp4(mss)))), true),
            new("TCP option length past the header", Eth4(Tcp4(overlong)), true),
            new("VXLAN inner IPv6 TCP SYN options", Eth4(Vxlan(Eth6(Tcp6(synOptions, 0)))), true),
            new("TCP data offset 4", Patch(plainTcp4, 14 + 20 + 12, 0x40), false),
            new("TCP header longer than the IP payload", Patch(Eth4(Tcp4(payload: 0)), 14 + 20 + 12, 0x80), false),
            new("TCP timestamps header, IP payload 24", PatchBe16(Eth4(Tcp4(ts, 0)), 14 + 2, 20 + 24), false),
            new("TCP IP payload 19", PatchBe16(plainTcp4, 14 + 2, 20 + 19), false),
            new("UDP length 7", PatchBe16(plainUdp4, 14 + 20 + 4, 7), false),
            new("UDP length 0", PatchBe16(plainUdp4, 14 + 20 + 4, 0), false),
            new("UDP length past IP payload", PatchBe16(plainUdp4, 14 + 20 + 4, 8 + 11), false),
            new("UDP IP payload 7", PatchBe16(plainUdp4, 14 + 2, 20 + 7), false),
            new("VXLAN outer UDP length past IP payload", PatchBe16(vxTcp4, 14 + 20 + 4, 2000), false),
            new("VXLAN outer UDP length 4", PatchBe16(vxTcp4, 14 + 20 + 4, 4), false),
            new("VXLAN outer total length 27", PatchBe16(vxTcp4, 14 + 2, 27), false),
            new("VXLAN outer total length 19", PatchBe16(vxTcp4, 14 + 2, 19), false),
            new("IPv4 total length past the frame", PatchBe16(plainTcp4, 14 + 2, 20 + 20 + 10 + 1), false),
            new("IPv4 total length past the frame, large", Eth4(Frames.IPv4("10.0.0.1", "10.0.0.2", 6, Frames.Tcp(1, 2, 0x10, new byte[4]), totalLength: 1500)), false),
            new("IPv6 payload length past the frame", PatchBe16(plainTcp6, 14 + 4, 32 + 10 + 1), false),
            new("VXLAN inner IPv4 total length past the frame", PatchBe16(vxTcp4, I + 2, 20 + 20 + 10 + 1), false),
            new("VXLAN inner IPv6 payload length past the frame", PatchBe16(vxTcp6Ts, I + 4, 300), false),
            new("VXLAN outer total length past the frame", PatchBe16(vxTcp4, 14 + 2, 1400), false),
            new("VXLAN inner Ethernet truncated", Eth4(Vxlan(new byte[10])), false),
            new("VXLAN header truncated", Eth4(Frames.IPv4(Outer4Src, Outer4Dst, 17, Frames.Udp(49152, 4789, [0x08, 0, 0, 0]))), false),
            new("VXLAN inner VLAN tag truncated", Eth4(Vxlan([.. Eth4([], 7)[..16]])), false),
            new("plain IPv4 UDP shorter than 42", Frames.Ethernet(0x0800, Frames.IPv4("10.0.0.1", "10.0.0.2", 17, [0, 1, 0, 2, 0, 8, 0])), false),
            new("plain IPv4 TTL 0 protocol 0", Eth4(Frames.IPv4("10.0.0.1", "10.0.0.2", 0, new byte[30])), false),
        };

        // Sanity: offsets used above point where they should.
        Assert.Equal(0x45, vxTcp4[I]);
        Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(vxTcp4.AsSpan(O + 12)));
        return shapes;
    }


    private static unsafe partial class Libc
    {
        public const int ProtNone = 0;
        public const int ProtRead = 1;
        public const int ProtWrite = 2;
        public const int MapPrivate = 0x02;
        public const int MapAnonymous = 0x20;

        [LibraryImport("libc", EntryPoint = "mmap")]
        public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

        [LibraryImport("libc", EntryPoint = "mprotect")]
        public static partial int Mprotect(byte* address, nuint length, int protection);

        [LibraryImport("libc", EntryPoint = "munmap")]
        public static partial int Munmap(byte* address, nuint length);
    }
}
