// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using FlowEngine.Benchmarks.Synthetic;
using FlowEngine.Packets;

namespace FlowEngine.Benchmarks.Parsing;

/// <summary>
/// <see cref="PacketDecoder.Decode"/> over 4096 pre-generated frames per invocation, reported per packet.
/// The frames follow a Zipf flow mix, so TCP handshakes, data and teardown, UDP, and inner VLAN tags are mixed as
/// on a real link; every frame must decode, or setup fails.
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    /// <summary>Frames decoded per benchmark invocation.</summary>
    public const int Frames = 4096;

    private readonly PacketDecoder _decoder = new();
    private SyntheticCapture _plainIPv4Tcp = null!;
    private SyntheticCapture _vxlanIPv4 = null!;
    private SyntheticCapture _vxlanIPv6 = null!;
    private SyntheticCapture _vxlanMixed = null!;
    private SyntheticCapture _geneveIPv4 = null!;

    /// <summary>Generates the frame sets and checks that each one decodes completely.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var vxlan = new TrafficProfile { Seed = 42, Flows = 100_000, Encapsulation = Encapsulation.Vxlan };
        _plainIPv4Tcp = Make(vxlan with { Encapsulation = Encapsulation.Plain, IPv6Fraction = 0, TcpFraction = 1, InnerVlanFraction = 0 }, VirtualNetworkKind.None);
        _vxlanIPv4 = Make(vxlan with { IPv6Fraction = 0 }, VirtualNetworkKind.Vxlan);
        _vxlanIPv6 = Make(vxlan with { IPv6Fraction = 1 }, VirtualNetworkKind.Vxlan);
        _vxlanMixed = Make(vxlan, VirtualNetworkKind.Vxlan);
        _geneveIPv4 = Make(vxlan with { Encapsulation = Encapsulation.Geneve, IPv6Fraction = 0 }, VirtualNetworkKind.Geneve);
    }

    /// <summary>Untunnelled Ethernet/IPv4/TCP with timestamp options.</summary>
    /// <returns>A checksum of the results.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Frames)]
    public ulong PlainIPv4Tcp() => DecodeAll(_plainIPv4Tcp);

    /// <summary>VXLAN, inner IPv4 (TCP and UDP, 10% inner 802.1Q).</summary>
    /// <returns>A checksum of the results.</returns>
    [Benchmark(OperationsPerInvoke = Frames)]
    public ulong VxlanIPv4Inner() => DecodeAll(_vxlanIPv4);

    /// <summary>VXLAN, inner IPv6.</summary>
    /// <returns>A checksum of the results.</returns>
    [Benchmark(OperationsPerInvoke = Frames)]
    public ulong VxlanIPv6Inner() => DecodeAll(_vxlanIPv6);

    /// <summary>VXLAN, the default mix: 80% inner IPv4, 20% inner IPv6.</summary>
    /// <returns>A checksum of the results.</returns>
    [Benchmark(OperationsPerInvoke = Frames)]
    public ulong VxlanMixed() => DecodeAll(_vxlanMixed);

    /// <summary>Geneve with one 8-byte option, inner IPv4.</summary>
    /// <returns>A checksum of the results.</returns>
    [Benchmark(OperationsPerInvoke = Frames)]
    public ulong GeneveOptionIPv4Inner() => DecodeAll(_geneveIPv4);

    private ulong DecodeAll(SyntheticCapture capture)
    {
        PacketDecoder decoder = _decoder;
        byte[] data = capture.Data;
        int[] offsets = capture.Offsets;
        int[] lengths = capture.Lengths;
        ulong sum = 0;
        var packet = default(DecodedPacket);
        for (int i = 0; i < offsets.Length; i++)
        {
            packet.WireLength = 0;
            decoder.Decode(data.AsSpan(offsets[i], lengths[i]), LinkType.Ethernet, ref packet);
            sum += packet.VnId + packet.SourcePort + (ulong)packet.PayloadLength;
        }

        return sum;
    }

    private SyntheticCapture Make(TrafficProfile profile, VirtualNetworkKind expected)
    {
        SyntheticCapture capture = SyntheticTraffic.Generate(profile, Frames);
        var packet = default(DecodedPacket);
        for (int i = 0; i < capture.Count; i++)
        {
            packet.WireLength = 0;
            if (!_decoder.Decode(capture.GetFrame(i), LinkType.Ethernet, ref packet))
            {
                throw new InvalidOperationException($"Frame {i} of {profile.Encapsulation} was rejected: {packet.Reject}.");
            }

            bool vlanOnly = expected == VirtualNetworkKind.None && packet.VnKind == VirtualNetworkKind.Vlan;
            if (packet.VnKind != expected && !vlanOnly)
            {
                throw new InvalidOperationException($"Frame {i} decoded as {packet.VnKind}, expected {expected}.");
            }
        }

        return capture;
    }
}
