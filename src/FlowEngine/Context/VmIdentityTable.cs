// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Context;

/// <summary>
/// Which VM each flow of one flow table belongs to, at both ends: from a <see cref="VmInventory"/> (by virtual network
/// and inner address, or by inner MAC), or, without one, learned from the traffic. Plug it into a table or pipeline
/// with <see cref="VmIdentityExtension"/>; read it for a running flow with <see cref="ForFlow"/> (from a flow event: it
/// is resolved before the Started event) and for an emitted record with <see cref="ForRecord"/>. One table, one thread.
/// </summary>
/// <remarks>
/// <para>Resolution of one end (its virtual network, inner address and, when the inner frame is Ethernet, MAC): a MAC
/// that belongs to a VM names that VM (the sender is who owns the interface, whatever source address it writes); a
/// gateway's MAC means the end is outside the network, unless the address is the gateway's own; otherwise the
/// address names the VM. Inventory VNIs match VXLAN and Geneve networks.</para>
/// <para>Learning (no inventory): every (virtual network, address) seen at a flow's start is a VM named
/// <c>vni:5001/10.0.0.11</c>, unless its MAC is a gateway's: a MAC seen with
/// <see cref="VmIdentityOptions.GatewayAddresses"/> distinct addresses of one version is a router, and every address
/// behind it (those learned before it was recognised included, from then on) is outside. Without MACs (IP-in-IP,
/// plain GRE) every address is a VM. Nothing is allocated per packet; learning allocates only when the learned set
/// outgrows its storage, and at most <see cref="VmIdentityOptions.MaxLearnedAddresses"/> addresses are kept.</para>
/// </remarks>
public sealed class VmIdentityTable
{
    private const byte SourceOutsideFlag = 1, DestinationOutsideFlag = 2, PendingReceiverFlag = 4, ReceiverIsOriginatorFlag = 8;

    // The I/G bit of the first octet (a MAC is held as 48 bits, first octet highest): multicast and broadcast MACs.
    private const ulong GroupMacBit = 1UL << 40;

    private readonly VmInventory? _inventory;
    private readonly VmIdentityOptions _options;
    private readonly Dictionary<AddressKey, int> _byAddress = [];
    private readonly Dictionary<AddressKey, int> _byAddressAnyNetwork = [];
    private readonly Dictionary<MacKey, int> _byMac = [];
    private readonly Dictionary<ulong, int> _byMacAnyNetwork = [];
    private readonly List<LearnedAddress> _learned = [];
    private readonly List<MacState> _macs = [];
    private readonly List<VmInfo?> _learnedInfo = [];
    private readonly List<long> _lastStartNs = [];
    private Ends[] _flows = [];
    private Ends[] _emitted = [];
    private VmIdentityStatistics _statistics;

    /// <summary>A table that resolves from <paramref name="inventory"/>, or learns when it is null.</summary>
    /// <param name="inventory">The VMs known, or null to learn them from the traffic.</param>
    /// <param name="options">Settings; defaults when null.</param>
    public VmIdentityTable(VmInventory? inventory = null, VmIdentityOptions? options = null)
    {
        _options = options ?? new VmIdentityOptions();
        _options.Validate();
        _inventory = inventory;
        if (inventory is null)
        {
            return;
        }

        for (int i = 0; i < inventory.Vms.Count; i++)
        {
            _lastStartNs.Add(long.MinValue);
            VmInfo vm = inventory.Vms[i];
            NetKey net = vm.Vni is uint vni ? NetKey.OfVni(vni) : default;
            if (vm.Address is IpAddress a)
            {
                (vm.Vni is null ? _byAddressAnyNetwork : _byAddress)[new AddressKey(net, a, vm.IpVersion)] = i;
            }

            if (vm.Mac != 0)
            {
                if (vm.Vni is null)
                {
                    _byMacAnyNetwork.TryAdd(vm.Mac, i);
                }
                else
                {
                    _byMac[new MacKey(net, vm.Mac)] = i;
                }
            }
        }
    }

    /// <summary>True when VMs are learned from the traffic (no inventory).</summary>
    public bool IsLearning => _inventory is null;

    /// <summary>Counters so far.</summary>
    public VmIdentityStatistics Statistics
    {
        get
        {
            VmIdentityStatistics s = _statistics;
            s.AddressesLearned = _learned.Count;
            return s;
        }
    }

    /// <summary>Bytes per table slot (the flow column).</summary>
    public static int BytesPerSlot => Unsafe.SizeOf<Ends>();

    /// <summary>
    /// The VMs known now: the inventory's, or those learned so far (addresses behind a gateway excluded). Builds a
    /// list: not for the packet path.
    /// </summary>
    public IReadOnlyList<VmInfo> Vms
    {
        get
        {
            if (_inventory is not null)
            {
                return _inventory.Vms;
            }

            var list = new List<VmInfo>();
            for (int i = 0; i < _learned.Count; i++)
            {
                if (!IsOutside(i))
                {
                    list.Add(LearnedInfo(i));
                }
            }

            return list;
        }
    }

    /// <summary>The ends of the running flow in <paramref name="slot"/> (a <see cref="FlowHandle.Slot"/>).</summary>
    /// <param name="slot">The slot.</param>
    /// <returns>Its VMs.</returns>
    public VmIdentity ForFlow(int slot) => View(Current(_flows[slot]));

    /// <summary>The ends of the record at <paramref name="recordIndex"/> of the batch the sink is being given.</summary>
    /// <param name="recordIndex">The record's index in the span passed to <see cref="IFlowSink.OnFlows"/>.</param>
    /// <returns>Its VMs.</returns>
    public VmIdentity ForRecord(int recordIndex) => View(_emitted[recordIndex]);

    /// <summary>
    /// The VM at one end, outside the flow path (an alert's target, a lookup from an API): by virtual network,
    /// address and (0 when not known) MAC. Learns nothing.
    /// </summary>
    /// <param name="network">The virtual network.</param>
    /// <param name="address">The inner address.</param>
    /// <param name="ipVersion">4 or 6.</param>
    /// <param name="mac">The inner MAC, or 0.</param>
    /// <param name="outside">True when the end is behind a gateway.</param>
    /// <returns>The VM, or null.</returns>
    public VmInfo? Find(VirtualNetworkId network, IpAddress address, byte ipVersion, ulong mac, out bool outside)
    {
        int index = _inventory is not null
            ? ResolveInventory(NetKey.Of(network), address, ipVersion, mac, out outside)
            : FindLearned(NetKey.Of(network), address, ipVersion, out outside);
        return index < 0 ? null : Info(index);
    }

    internal void Initialize(in FlowExtensionContext context)
    {
        if (_flows.Length != 0)
        {
            throw new InvalidOperationException("a VmIdentityTable serves one flow table");
        }

        _flows = GC.AllocateArray<Ends>(context.Capacity, pinned: true);
        _emitted = new Ends[context.RecordBatchSize];
    }

    internal void OnStart(int slot, in DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator)
    {
        NetKey net = NetKey.Of(packet.VirtualNetwork);
        ulong sourceMac = 0, destinationMac = 0;
        if (frame.Length != 0)
        {
            TryReadMacs(in packet, frame, out sourceMac, out destinationMac);
        }

        // The sender of the first packet exists; the receiver may not (a scan's target, a flood's victim that never
        // answers). Learning takes the sender now and the receiver only once it has sent something (at emit).
        int sender = Resolve(net, packet.Source, packet.IpVersion, sourceMac, out bool senderOutside);
        int receiver = _inventory is not null
            ? ResolveInventory(net, packet.Destination, packet.IpVersion, destinationMac, out bool receiverOutside)
            : LookUpReceiver(net, packet.Destination, packet.IpVersion, destinationMac, out receiverOutside);
        ref Ends e = ref _flows[slot];
        e.Flags = 0;
        e.ReceiverMac = 0;
        if (_inventory is null && receiver < 0 && !receiverOutside)
        {
            e.Flags |= PendingReceiverFlag;
            e.ReceiverMac = destinationMac;
        }

        if (fromOriginator)
        {
            e.Source = sender;
            e.Destination = receiver;
            e.Flags |= (byte)((senderOutside ? SourceOutsideFlag : 0) | (receiverOutside ? DestinationOutsideFlag : 0));
        }
        else
        {
            e.Source = receiver;
            e.Destination = sender;
            e.Flags |= (byte)((receiverOutside ? SourceOutsideFlag : 0) | (senderOutside ? DestinationOutsideFlag : 0) | ReceiverIsOriginatorFlag);
        }

        e.SourceGap = Gap(e.Source, (e.Flags & SourceOutsideFlag) != 0, packet.TimestampNs);
        e.DestinationGap = Gap(e.Destination, (e.Flags & DestinationOutsideFlag) != 0, packet.TimestampNs);
        Count(sender, senderOutside);
        Count(receiver, receiverOutside);
    }

    // Seconds since the VM's previous flow start (as either end), NaN for its first; records this start.
    private float Gap(int index, bool outside, long timestampNs)
    {
        if (index < 0 || outside)
        {
            return float.NaN;
        }

        ref long last = ref AsSpan(_lastStartNs)[index];
        float gap = last == long.MinValue ? float.NaN : (float)(Math.Max(0, timestampNs - last) / 1e9);
        if (timestampNs > last)
        {
            last = timestampNs;
        }

        return gap;
    }

    internal void OnEmit(int slot, int recordIndex, in FlowRecord record)
    {
        ref Ends e = ref _flows[slot];
        if ((e.Flags & PendingReceiverFlag) != 0)
        {
            bool receiverIsOriginator = (e.Flags & ReceiverIsOriginatorFlag) != 0;
            if ((receiverIsOriginator ? record.ForwardPackets : record.ReversePackets) != 0)
            {
                // The receiver answered: it exists. Learn it (a continuation after an active timeout keeps the result).
                var net = NetKey.Of(new VirtualNetworkId(record.VnKind, record.VnId));
                IpAddress address = receiverIsOriginator ? record.SourceAddress : record.DestinationAddress;
                int index = Learn(net, address, record.IpVersion, e.ReceiverMac, out bool outside);
                e.Flags &= unchecked((byte)~PendingReceiverFlag);
                if (receiverIsOriginator)
                {
                    e.Source = index;
                    e.Flags |= outside ? SourceOutsideFlag : (byte)0;
                }
                else
                {
                    e.Destination = index;
                    e.Flags |= outside ? DestinationOutsideFlag : (byte)0;
                }
            }
        }

        _emitted[recordIndex] = Current(e);
    }

    /// <summary>
    /// The inner frame's MACs, when the innermost layer 2 is Ethernet: a frame without a tunnel, or the Ethernet frame
    /// a VXLAN or Geneve (protocol 0x6558) tunnel carries, with up to two VLAN tags before the IP header. False (and 0)
    /// otherwise: IP-in-IP, GRE and Geneve carrying IP have no inner MACs.
    /// </summary>
    internal static bool TryReadMacs(in DecodedPacket packet, ReadOnlySpan<byte> frame, out ulong source, out ulong destination)
    {
        source = destination = 0;
        int ip = packet.IpOffset;
        if (ip < 14 || ip > frame.Length)
        {
            return false;
        }

        ushort expected = packet.IpVersion == 6 ? (ushort)0x86DD : (ushort)0x0800;
        if (BinaryPrimitives.ReadUInt16BigEndian(frame[(ip - 2)..]) != expected)
        {
            return false;
        }

        int eth = ip - 14;
        for (int tags = 0; tags < 2 && eth >= 4 && BinaryPrimitives.ReadUInt16BigEndian(frame[(eth + 8)..]) is 0x8100 or 0x88A8; tags++)
        {
            // [MACs][TPID TCI] before the EtherType: the MACs are four bytes further back per tag.
            eth -= 4;
        }

        // eth + 12 is where the innermost EtherType (or the first TPID) sits; recheck that the walk stayed in the frame.
        bool ethernet = packet.TunnelDepth == 0
            ? eth == 0
            : packet.VnKind switch
            {
                VirtualNetworkKind.Vxlan => eth >= 8 && (frame[eth - 8] & 0x08) != 0,
                VirtualNetworkKind.Geneve => IsGeneveEthernet(in packet, frame, eth),
                _ => false,
            };
        if (!ethernet)
        {
            return false;
        }

        destination = ReadMac(frame[eth..]);
        source = ReadMac(frame[(eth + 6)..]);
        return true;
    }

    private static bool IsGeneveEthernet(in DecodedPacket packet, ReadOnlySpan<byte> frame, int eth)
    {
        int header = (packet.Flags & PacketFlags.HasGeneveOptions) != 0 ? packet.GeneveOptionsOffset - 8 : eth - 8;
        return header >= 0 && header + 8 <= eth && BinaryPrimitives.ReadUInt16BigEndian(frame[(header + 2)..]) == 0x6558
            && header + 8 + ((frame[header] & 0x3F) * 4) == eth;
    }

    private static ulong ReadMac(ReadOnlySpan<byte> b) => ((ulong)BinaryPrimitives.ReadUInt16BigEndian(b) << 32) | BinaryPrimitives.ReadUInt32BigEndian(b[2..]);

    private void Count(int index, bool outside)
    {
        if (outside)
        {
            _statistics.EndsOutside++;
        }
        else if (index >= 0)
        {
            _statistics.EndsResolved++;
        }
        else
        {
            _statistics.EndsUnknown++;
        }
    }

    private int Resolve(NetKey net, IpAddress address, byte version, ulong mac, out bool outside)
        => _inventory is not null ? ResolveInventory(net, address, version, mac, out outside) : Learn(net, address, version, mac, out outside);

    private int ResolveInventory(NetKey net, IpAddress address, byte version, ulong mac, out bool outside)
    {
        outside = false;
        var key = new AddressKey(net, address, version);
        if (mac != 0 && (_byMac.TryGetValue(new MacKey(net, mac), out int byMac) || _byMacAnyNetwork.TryGetValue(mac, out byMac)))
        {
            VmInfo vm = _inventory!.Vms[byMac];
            if (!vm.IsGateway)
            {
                return byMac;
            }

            // Through the gateway: its own address names it, any other is outside (or a VM routed from another subnet).
            if (_byAddress.TryGetValue(key, out int routed) || _byAddressAnyNetwork.TryGetValue(key with { Net = default }, out routed))
            {
                return routed;
            }

            outside = true;
            return -1;
        }

        return _byAddress.TryGetValue(key, out int byAddress) || _byAddressAnyNetwork.TryGetValue(key with { Net = default }, out byAddress) ? byAddress : -1;
    }

    private int Learn(NetKey net, IpAddress address, byte version, ulong mac, out bool outside)
    {
        if (!IsUnicastEndpoint(address, version))
        {
            // Multicast, broadcast, link-local and unspecified addresses are no VM's: a VM's mDNS or DHCP would
            // otherwise make 224.0.0.251 or 255.255.255.255 a learned VM.
            _statistics.EndsNotLearnable++;
            outside = false;
            return -1;
        }

        var key = new AddressKey(net, address, version);
        int macIndex = mac == 0 || (mac & GroupMacBit) != 0 ? -1 : MacIndex(net, mac);
        if (_byAddress.TryGetValue(key, out int index))
        {
            ref LearnedAddress known = ref AsSpan(_learned)[index];
            if (macIndex >= 0 && known.Mac != macIndex)
            {
                // The address moved to another MAC (a VM replaced, or a router now answering for it).
                known.Mac = macIndex;
                Bind(macIndex, version);
            }

            outside = IsOutside(index);
            return index;
        }

        if (macIndex >= 0 && _macs[macIndex].Gateway)
        {
            // Behind a known gateway: outside, and not worth a learned entry (a spoofed flood would fill the table).
            outside = true;
            return -1;
        }

        if (_learned.Count >= _options.MaxLearnedAddresses)
        {
            _statistics.LearnedExhausted++;
            outside = false;
            return -1;
        }

        index = _learned.Count;
        _learned.Add(new LearnedAddress { Key = key, Mac = macIndex });
        _learnedInfo.Add(null);
        _lastStartNs.Add(long.MinValue);
        _byAddress.Add(key, index);
        if (macIndex >= 0)
        {
            Bind(macIndex, version);
        }

        outside = IsOutside(index);
        return index;
    }

    /// <summary>
    /// True for an address that can be one VM's own: not multicast, limited broadcast, link-local, loopback or
    /// unspecified (IPv4 0/8, 127/8, 169.254/16, 224/4 and above; IPv6 ::, ::1, fe80::/10, ff00::/8).
    /// </summary>
    /// <param name="address">The address.</param>
    /// <param name="version">4 or 6.</param>
    /// <returns>Whether it can be a VM's own address.</returns>
    public static bool IsUnicastEndpoint(IpAddress address, byte version)
    {
        Span<byte> b = stackalloc byte[16];
        address.WriteBytes(b);
        if (version == 4)
        {
            return b[0] is not (0 or 127) && b[0] < 224 && !(b[0] == 169 && b[1] == 254);
        }

        bool unspecifiedOrLoopback = BinaryPrimitives.ReadUInt64BigEndian(b) == 0 && BinaryPrimitives.ReadUInt64BigEndian(b[8..]) <= 1;
        return !unspecifiedOrLoopback && b[0] != 0xFF && !(b[0] == 0xFE && (b[1] & 0xC0) == 0x80);
    }

    // A receiver in learning mode: known if learned; behind a recognised gateway MAC is outside; else unknown for now.
    private int LookUpReceiver(NetKey net, IpAddress address, byte version, ulong mac, out bool outside)
    {
        if (_byAddress.TryGetValue(new AddressKey(net, address, version), out int index))
        {
            outside = IsOutside(index);
            return index;
        }

        outside = mac != 0 && _byMac.TryGetValue(new MacKey(net, mac), out int m) && _macs[m].Gateway;
        return -1;
    }

    private int FindLearned(NetKey net, IpAddress address, byte version, out bool outside)
    {
        if (_byAddress.TryGetValue(new AddressKey(net, address, version), out int index))
        {
            outside = IsOutside(index);
            return outside ? -1 : index;
        }

        outside = false;
        return -1;
    }

    private int MacIndex(NetKey net, ulong mac)
    {
        var key = new MacKey(net, mac);
        if (_byMac.TryGetValue(key, out int index))
        {
            return index;
        }

        if (_macs.Count >= _options.MaxLearnedAddresses)
        {
            return -1;
        }

        index = _macs.Count;
        _macs.Add(new MacState { Mac = mac });
        _byMac.Add(key, index);
        return index;
    }

    private void Bind(int macIndex, byte version)
    {
        ref MacState m = ref AsSpan(_macs)[macIndex];
        int count = version == 6 ? ++m.V6 : ++m.V4;
        if (!m.Gateway && count >= (version == 6 ? _options.GatewayAddressesV6 : _options.GatewayAddresses))
        {
            m.Gateway = true;
            _statistics.GatewaysLearned++;
        }
    }

    private bool IsOutside(int learnedIndex)
    {
        int mac = _learned[learnedIndex].Mac;
        return mac >= 0 && _macs[mac].Gateway;
    }

    // A flow's ends as they stand: learned addresses are re-judged (a MAC may have been recognised as a gateway since).
    private Ends Current(Ends e)
    {
        if (_inventory is not null)
        {
            return e;
        }

        if (e.Source >= 0 && IsOutside(e.Source))
        {
            e.Flags |= SourceOutsideFlag;
        }

        if (e.Destination >= 0 && IsOutside(e.Destination))
        {
            e.Flags |= DestinationOutsideFlag;
        }

        return e;
    }

    private VmIdentity View(Ends e)
    {
        bool so = (e.Flags & SourceOutsideFlag) != 0, dOut = (e.Flags & DestinationOutsideFlag) != 0;
        return new VmIdentity(so || e.Source < 0 ? null : Info(e.Source), dOut || e.Destination < 0 ? null : Info(e.Destination), so, dOut, e.SourceGap, e.DestinationGap);
    }

    private VmInfo Info(int index) => _inventory is not null ? _inventory.Vms[index] : LearnedInfo(index);

    // Learned VMs get their object when someone first asks for one, not when the flow path learns the address.
    private VmInfo LearnedInfo(int index)
    {
        VmInfo? info = _learnedInfo[index];
        if (info is null)
        {
            LearnedAddress l = _learned[index];
            uint? vni = l.Key.Net.Kind == NetKey.VniKind ? l.Key.Net.Id : null;
            string network = l.Key.Net.ToString();
            info = new VmInfo($"{network}/{l.Key.Address.ToString(l.Key.Version)}", VmSource.Learned)
            {
                Vni = vni,
                Address = l.Key.Address,
                IpVersion = l.Key.Version,
                Mac = l.Mac >= 0 ? _macs[l.Mac].Mac : 0,
            };
            _learnedInfo[index] = info;
        }

        return info;
    }

    private static Span<T> AsSpan<T>(List<T> list) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list);

    private struct Ends
    {
        public int Source;
        public int Destination;
        public ulong ReceiverMac;
        public float SourceGap;
        public float DestinationGap;
        public byte Flags;
    }

    private struct LearnedAddress
    {
        public AddressKey Key;
        public int Mac;
    }

    private struct MacState
    {
        public ulong Mac;
        public int V4;
        public int V6;
        public bool Gateway;
    }

    // The virtual network as inventories name it: VXLAN and Geneve share the VNI space; VLANs and GRE keys are their own.
    private readonly record struct NetKey(byte Kind, uint Id)
    {
        public const byte VniKind = 1;

        public static NetKey OfVni(uint vni) => new(VniKind, vni);

        public static NetKey Of(VirtualNetworkId network) => network.Kind switch
        {
            VirtualNetworkKind.Vxlan or VirtualNetworkKind.Geneve => new(VniKind, network.Id),
            VirtualNetworkKind.Vlan => new(2, network.Id),
            VirtualNetworkKind.Gre => new(3, network.Id),
            _ => default,
        };

        public override string ToString() => Kind switch
        {
            VniKind => $"vni:{Id}",
            2 => $"vlan:{Id}",
            3 => $"gre:{Id}",
            _ => "none",
        };
    }

    private readonly record struct AddressKey(NetKey Net, IpAddress Address, byte Version);

    private readonly record struct MacKey(NetKey Net, ulong Mac);
}
