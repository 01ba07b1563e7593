// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace FlowEngine.Benchmarks.Synthetic;

/// <summary>
/// Deterministic generator of tenant traffic as a hypervisor underlay carries it: outer Ethernet/IPv4/UDP/VXLAN
/// (or Geneve, or no tunnel), inner Ethernet with some 802.1Q tags, inner IPv4 or IPv6, TCP connections
/// (SYN, SYN-ACK, ACK, data, FIN, FIN, ACK, then a new connection on the same 5-tuple) and UDP exchanges.
/// </summary>
/// <remarks>
/// <para>
/// Each packet picks a flow from a population of <see cref="TrafficProfile.Flows"/> by Zipf popularity, and
/// emits the next packet of that flow's script. A flow's tenant (VNI), addresses, ports, protocol, IP version,
/// VLAN tag and hypervisors are derived from a hash of its index, so only its script position and sequence
/// numbers are stored (9 bytes per flow). Every tenant draws its inner addresses from the same ranges
/// (clients 10.0.0.0/22 and fd00::/64, servers 10.0.4.0/24), so equal inner 5-tuples occur in different VNIs.
/// In the plain variant the tenant index is folded into the addresses instead (10.T.x.y, fd00:0:0:T::x).
/// </para>
/// <para>
/// Lengths (IPv4 total length, IPv6 payload length, UDP length, TCP data offset) are exact and the IPv4 header
/// checksum is correct; UDP and TCP checksums are 0. The outer UDP source port is a hash of the inner flow and
/// direction mapped to 32768-60999, as Linux <c>udp_flow_src_port</c> does. Large packets fill the underlay MTU.
/// </para>
/// </remarks>
public sealed class SyntheticTraffic
{
    private const byte ProtocolTcp = 6;
    private const byte ProtocolUdp = 17;
    private const int ClientHosts = 1000;
    private const int ServerHosts = 64;
    private const int MaxDataPackets = 24;
    private const ushort GeneveOptionClass = 0x0102;
    private const byte GeneveOptionType = 0x80;
    private const int GeneveOptionBytes = 8;

    // Payloads are zero bytes. Server ports are limited to services whose Wireshark dissectors accept any payload
    // (TLS, HTTP, RESP, PostgreSQL, DNS, mDNS, syslog, IKE NAT-T): when a dissector declines, Wireshark tries the
    // client's ephemeral port, and the dissector registered there may report the packet as malformed.
    private static readonly ushort[] s_tcpServerPorts = [443, 443, 443, 443, 443, 443, 443, 80, 80, 8080, 6379, 5432];
    private static readonly ushort[] s_udpServerPorts = [53, 53, 53, 53, 53, 53, 53, 5353, 514, 4500, 53, 53];

    private readonly TrafficProfile _profile;
    private readonly ZipfSampler _zipf;
    private readonly byte[] _phase;
    private readonly uint[] _clientSeq;
    private readonly uint[] _serverSeq;
    private readonly bool[] _seen;
    private readonly ulong _flowSalt;
    private readonly double _meanGapNs;
    private readonly int _tunnelOverhead;
    private SplitMix64 _rng;
    private long _nowNs;
    private ushort _ipId;

    /// <summary>Creates a generator. Building the popularity table takes about 30 ms per million flows.</summary>
    /// <param name="profile">Knobs.</param>
    public SyntheticTraffic(TrafficProfile profile)
    {
        profile.Validate();
        _profile = profile;
        _zipf = new ZipfSampler(profile.Flows, profile.ZipfExponent);
        _phase = new byte[profile.Flows];
        _clientSeq = new uint[profile.Flows];
        _serverSeq = new uint[profile.Flows];
        _seen = new bool[profile.Flows];
        _rng = new SplitMix64(profile.Seed);
        _flowSalt = SplitMix64.Mix(profile.Seed ^ 0x5EED_F10E_0000_0001);
        _meanGapNs = 1e9 / profile.PacketsPerSecond;
        _nowNs = profile.StartNs;
        _tunnelOverhead = profile.Encapsulation switch
        {
            Encapsulation.Vxlan => FrameBuilder.EthernetLength + FrameBuilder.IPv4Length + FrameBuilder.UdpLength + FrameBuilder.VxlanLength,
            Encapsulation.Geneve => FrameBuilder.EthernetLength + FrameBuilder.IPv4Length + FrameBuilder.UdpLength + FrameBuilder.GeneveLength + GeneveOptionBytes,
            _ => 0,
        };
    }

    /// <summary>The knobs.</summary>
    public TrafficProfile Profile => _profile;

    /// <summary>The longest frame this generator writes; <see cref="NextFrame"/> needs this much room.</summary>
    public int MaxFrameLength => _profile.UnderlayMtu + FrameBuilder.EthernetLength + FrameBuilder.VlanTagLength;

    /// <summary>Flows that have had at least one packet so far.</summary>
    public int DistinctFlows { get; private set; }

    /// <summary>Generates <paramref name="packets"/> frames into one contiguous buffer.</summary>
    /// <param name="profile">Knobs.</param>
    /// <param name="packets">Number of frames.</param>
    /// <returns>The frames.</returns>
    public static SyntheticCapture Generate(TrafficProfile profile, int packets)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(packets);
        var generator = new SyntheticTraffic(profile);
        int max = generator.MaxFrameLength;
        var offsets = new int[packets];
        var lengths = new int[packets];
        var wireLengths = new int[packets];
        var timestamps = new long[packets];
        var data = new byte[(int)Math.Min(Array.MaxLength, ((long)packets * 256) + max)];
        int position = 0;
        for (int i = 0; i < packets; i++)
        {
            if (data.Length - position < max)
            {
                long grown = Math.Min(Array.MaxLength, (long)data.Length * 2);
                if (grown - position < max)
                {
                    throw new InvalidOperationException($"{packets} frames do not fit in one array; generate fewer.");
                }

                Array.Resize(ref data, (int)grown);
            }

            int length = generator.NextFrame(data.AsSpan(position), out timestamps[i], out wireLengths[i]);
            offsets[i] = position;
            lengths[i] = length;
            position += length;
        }

        return new SyntheticCapture(OnHugePages(data, position), offsets, lengths, wireLengths, timestamps, packets, generator.DistinctFlows);
    }

    // The frames move to a pinned array advised for 2 MiB pages before it is touched, as a DPDK mempool's mbufs
    // live in huge pages: with 4 KiB pages, a pass over a few hundred MB of frames takes a TLB miss every 16
    // frames, which on this VM cost the pipeline about a third of its rate (docs/performance.md).
    private static unsafe byte[] OnHugePages(byte[] data, int length)
    {
        byte[] frames = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        fixed (byte* p = frames)
        {
            _ = FlowEngine.Flows.Internal.NativeRegion.AdviseHugePages(p, (nuint)length);
        }

        data.AsSpan(0, length).CopyTo(frames);
        return frames;
    }

    /// <summary>Writes the next frame.</summary>
    /// <param name="destination">At least <see cref="MaxFrameLength"/> bytes.</param>
    /// <param name="timestampNs">Capture time, nanoseconds since the Unix epoch.</param>
    /// <param name="wireLength">Length on the wire.</param>
    /// <returns>Bytes captured (the wire length, or less with a snap length).</returns>
    public int NextFrame(Span<byte> destination, out long timestampNs, out int wireLength)
    {
        if (destination.Length < MaxFrameLength)
        {
            throw new ArgumentException($"Needs {MaxFrameLength} bytes.", nameof(destination));
        }

        timestampNs = _nowNs;
        _nowNs += (long)(-Math.Log(1.0 - _rng.NextDouble()) * _meanGapNs);

        int index = _zipf.Next(ref _rng);
        if (!_seen[index])
        {
            _seen[index] = true;
            DistinctFlows++;
        }

        FlowShape f = Describe(index);
        PacketShape s = NextPacket(index, in f);
        int length = Write(destination, in f, in s, timestampNs);
        if (_profile.Encapsulation == Encapsulation.Plain && length < 60)
        {
            // Ethernet minimum frame: the NIC pads, and a receive-side capture sees the padding.
            destination[length..60].Clear();
            length = 60;
        }

        wireLength = length;
        return _profile.SnapLength > 0 && length > _profile.SnapLength ? _profile.SnapLength : length;
    }

    private FlowShape Describe(int index)
    {
        ulong h = SplitMix64.Mix(_flowSalt + ((ulong)index * 0x9E37_79B9_7F4A_7C15));
        var f = default(FlowShape);
        f.Hash = h;
        f.Tenant = Below(Sub(h, 1), _profile.Vnis);
        f.IsV6 = Unit(Sub(h, 2)) < _profile.IPv6Fraction;
        f.IsTcp = Unit(Sub(h, 3)) < _profile.TcpFraction;
        f.VlanId = Unit(Sub(h, 4)) < _profile.InnerVlanFraction ? (ushort)(2 + Below(Sub(h, 5), 4000)) : (ushort)0;
        f.ClientHost = Below(Sub(h, 6), ClientHosts);
        f.ServerHost = Below(Sub(h, 7), ServerHosts);
        f.ClientPort = (ushort)(32768 + Below(Sub(h, 8), 28232));
        ushort[] ports = f.IsTcp ? s_tcpServerPorts : s_udpServerPorts;
        f.ServerPort = ports[Below(Sub(h, 9), ports.Length)];
        f.DataPackets = 1 + Below(Sub(h, 10), MaxDataPackets);
        f.ClientHypervisor = Hypervisor(f.Tenant, 0, f.ClientHost);
        f.ServerHypervisor = Hypervisor(f.Tenant, 1, f.ServerHost);
        if (f.ServerHypervisor == f.ClientHypervisor)
        {
            // Traffic between two VMs on one hypervisor never reaches the underlay.
            f.ServerHypervisor = (f.ServerHypervisor + 1) % _profile.Hypervisors;
        }

        return f;
    }

    private PacketShape NextPacket(int index, in FlowShape f)
    {
        var s = default(PacketShape);
        int phase = _phase[index];
        if (!f.IsTcp)
        {
            s.FromClient = phase == 0;
            _phase[index] = (byte)(phase ^ 1);
            s.Payload = _rng.NextBool(_profile.LargeFraction / 3) ? MtuPayload(in f, 0) : 12 + _rng.NextInt(49);
            return s;
        }

        int d = f.DataPackets;
        ref uint c = ref _clientSeq[index];
        ref uint v = ref _serverSeq[index];
        switch (phase)
        {
            case 0:
                c = (uint)_rng.NextUInt64();
                v = (uint)_rng.NextUInt64();
                s = new PacketShape { FromClient = true, Flags = 0x02, Sequence = c++ };
                break;
            case 1:
                s = new PacketShape { Flags = 0x12, Sequence = v++, Acknowledgement = c };
                break;
            case 2:
                s = new PacketShape { FromClient = true, Flags = 0x10, Sequence = c, Acknowledgement = v };
                break;
            default:
                if (phase < 3 + d)
                {
                    bool request = ((phase - 3) & 1) == 0;
                    int payload = !request && _rng.NextBool(_profile.LargeFraction) ? MtuPayload(in f, 0x18) : 1 + _rng.NextInt(40);
                    s = request
                        ? new PacketShape { FromClient = true, Flags = 0x18, Sequence = c, Acknowledgement = v, Payload = payload }
                        : new PacketShape { Flags = 0x18, Sequence = v, Acknowledgement = c, Payload = payload };
                    if (request)
                    {
                        c += (uint)payload;
                    }
                    else
                    {
                        v += (uint)payload;
                    }
                }
                else if (phase == 3 + d)
                {
                    s = new PacketShape { FromClient = true, Flags = 0x11, Sequence = c++, Acknowledgement = v };
                }
                else if (phase == 4 + d)
                {
                    s = new PacketShape { Flags = 0x11, Sequence = v++, Acknowledgement = c };
                }
                else
                {
                    s = new PacketShape { FromClient = true, Flags = 0x10, Sequence = c, Acknowledgement = v };
                }

                break;
        }

        _phase[index] = (byte)(phase >= 5 + d ? 0 : phase + 1);
        return s;
    }

    private int Write(Span<byte> d, in FlowShape f, in PacketShape s, long timestampNs)
    {
        int vlanBytes = f.VlanId != 0 ? FrameBuilder.VlanTagLength : 0;
        int ipHeader = f.IsV6 ? FrameBuilder.IPv6Length : FrameBuilder.IPv4Length;
        int l4Header = L4HeaderLength(in f, s.Flags);
        int payload = s.Payload;
        int ipLength = ipHeader + l4Header + payload;
        int innerLength = FrameBuilder.EthernetLength + vlanBytes + ipLength;

        int pos = 0;
        if (_profile.Encapsulation != Encapsulation.Plain)
        {
            int srcHv = s.FromClient ? f.ClientHypervisor : f.ServerHypervisor;
            int dstHv = s.FromClient ? f.ServerHypervisor : f.ClientHypervisor;
            bool geneve = _profile.Encapsulation == Encapsulation.Geneve;
            int tunnelHeader = geneve ? FrameBuilder.GeneveLength + GeneveOptionBytes : FrameBuilder.VxlanLength;
            int udpLength = FrameBuilder.UdpLength + tunnelHeader + innerLength;
            uint entropy = (uint)SplitMix64.Mix(f.Hash ^ (s.FromClient ? 0UL : 1UL));
            ushort sourcePort = (ushort)(32768 + ((entropy * (ulong)(61000 - 32768)) >> 32));
            pos += FrameBuilder.WriteEthernet(d, UnderlayMac(dstHv), UnderlayMac(srcHv), 0, FrameBuilder.EtherTypeIPv4);
            pos += FrameBuilder.WriteIPv4(d[pos..], UnderlayIp(srcHv), UnderlayIp(dstHv), ProtocolUdp, FrameBuilder.IPv4Length + udpLength, _ipId++, 64);
            pos += FrameBuilder.WriteUdp(d[pos..], sourcePort, geneve ? FrameBuilder.GenevePort : FrameBuilder.VxlanPort, udpLength);
            uint vni = _profile.FirstVni + (uint)f.Tenant;
            if (geneve)
            {
                pos += FrameBuilder.WriteGeneve(d[pos..], vni, GeneveOptionBytes, FrameBuilder.EtherTypeTransparentBridging);
                Span<byte> data = d.Slice(pos + 4, 4);
                BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)(s.FromClient ? f.ClientHost : f.ServerHost));
                BinaryPrimitives.WriteUInt16BigEndian(data[2..], (ushort)(s.FromClient ? f.ServerHost : f.ClientHost));
                pos += FrameBuilder.WriteGeneveOption(d[pos..], GeneveOptionClass, GeneveOptionType, data);
            }
            else
            {
                pos += FrameBuilder.WriteVxlan(d[pos..], vni);
            }
        }

        bool plain = _profile.Encapsulation == Encapsulation.Plain;
        ulong clientMac = TenantMac(f.Tenant, 0, f.ClientHost);
        ulong serverMac = TenantMac(f.Tenant, 1, f.ServerHost);
        pos += FrameBuilder.WriteEthernet(
            d[pos..],
            s.FromClient ? serverMac : clientMac,
            s.FromClient ? clientMac : serverMac,
            f.VlanId,
            f.IsV6 ? FrameBuilder.EtherTypeIPv6 : FrameBuilder.EtherTypeIPv4);
        byte protocol = f.IsTcp ? ProtocolTcp : ProtocolUdp;
        if (f.IsV6)
        {
            UInt128 client = TenantIPv6(plain ? f.Tenant : 0, 0, f.ClientHost);
            UInt128 server = TenantIPv6(plain ? f.Tenant : 0, 1, f.ServerHost);
            pos += FrameBuilder.WriteIPv6(
                d[pos..],
                s.FromClient ? client : server,
                s.FromClient ? server : client,
                protocol,
                ipLength - FrameBuilder.IPv6Length,
                (uint)(f.Hash >> 40) ^ (s.FromClient ? 0u : 0x5A5A5u),
                64);
        }
        else
        {
            uint client = TenantIPv4(plain ? f.Tenant : 0, 0, f.ClientHost);
            uint server = TenantIPv4(plain ? f.Tenant : 0, 1, f.ServerHost);
            pos += FrameBuilder.WriteIPv4(d[pos..], s.FromClient ? client : server, s.FromClient ? server : client, protocol, ipLength, _ipId++, 64);
        }

        ushort sport = s.FromClient ? f.ClientPort : f.ServerPort;
        ushort dport = s.FromClient ? f.ServerPort : f.ClientPort;
        if (f.IsTcp)
        {
            uint clock = (uint)(timestampNs / 1_000_000);
            uint tsVal = clock + (uint)(s.FromClient ? f.Hash : f.Hash >> 32);
            uint tsEcr = s.Flags == 0x02 ? 0 : clock - 1 + (uint)(s.FromClient ? f.Hash >> 32 : f.Hash);
            pos += FrameBuilder.WriteTcp(d[pos..], sport, dport, s.Sequence, s.Acknowledgement, s.Flags, (ushort)(502 + (f.Hash & 0x3FFF)), tsVal, tsEcr);
        }
        else
        {
            pos += FrameBuilder.WriteUdp(d[pos..], sport, dport, FrameBuilder.UdpLength + payload);
        }

        d.Slice(pos, payload).Clear();
        return pos + payload;
    }

    // Transport payload that makes the packet fill the underlay MTU after encapsulation.
    private int MtuPayload(in FlowShape f, byte tcpFlags)
    {
        int vlanBytes = f.VlanId != 0 ? FrameBuilder.VlanTagLength : 0;
        int innerIpMax = _profile.UnderlayMtu - (_tunnelOverhead == 0 ? 0 : _tunnelOverhead + vlanBytes);
        return innerIpMax - (f.IsV6 ? FrameBuilder.IPv6Length : FrameBuilder.IPv4Length) - L4HeaderLength(in f, tcpFlags);
    }

    private static int L4HeaderLength(in FlowShape f, byte tcpFlags) =>
        !f.IsTcp ? FrameBuilder.UdpLength : (tcpFlags & 0x02) != 0 ? FrameBuilder.TcpSynLength : FrameBuilder.TcpTimestampLength;

    private int Hypervisor(int tenant, int role, int host) =>
        Below(SplitMix64.Mix(_flowSalt ^ ((ulong)tenant << 32) ^ ((ulong)role << 24) ^ (ulong)host), _profile.Hypervisors);

    private static ulong UnderlayMac(int hypervisor) => 0x0250_5600_0000UL | (uint)(hypervisor + 1);

    private static uint UnderlayIp(int hypervisor) => 0xAC10_0000u + (uint)(hypervisor + 1);

    private static ulong TenantMac(int tenant, int role, int host) => (0x02UL << 40) | ((ulong)(uint)tenant << 24) | ((ulong)(uint)role << 16) | (uint)host;

    // Clients 10.T.0.1-10.T.3.232, servers 10.T.4.1-10.T.4.64; T is 0 for every tenant behind a tunnel.
    private static uint TenantIPv4(int tenant, int role, int host) =>
        0x0A00_0000u | ((uint)(tenant & 0xFF) << 16) | (role == 0 ? (uint)(host + 1) : 0x400u + (uint)(host + 1));

    // fd00:0:0:T::1:h for clients, fd00:0:0:T::2:h for servers.
    private static UInt128 TenantIPv6(int tenant, int role, int host) =>
        new(0xFD00_0000_0000_0000UL | (uint)(tenant & 0xFFFF), ((ulong)(uint)(role + 1) << 16) | (uint)(host + 1));

    private static ulong Sub(ulong h, ulong k) => SplitMix64.Mix(h + (k * 0xD1B5_4A32_D192_ED03));

    private static double Unit(ulong h) => (h >> 11) * (1.0 / (1UL << 53));

    private static int Below(ulong h, int n) => (int)(((h >> 32) * (ulong)(uint)n) >> 32);

    private struct FlowShape
    {
        public ulong Hash;
        public int Tenant;
        public bool IsV6;
        public bool IsTcp;
        public ushort VlanId;
        public int ClientHost;
        public int ServerHost;
        public ushort ClientPort;
        public ushort ServerPort;
        public int DataPackets;
        public int ClientHypervisor;
        public int ServerHypervisor;
    }

    private struct PacketShape
    {
        public bool FromClient;
        public byte Flags;
        public uint Sequence;
        public uint Acknowledgement;

        public int Payload;
    }
}
