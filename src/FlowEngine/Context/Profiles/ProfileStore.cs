// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Context.Profiles;

/// <summary>
/// Behavioural profiles of every VM and every virtual network, learned from flow records as a sink sees them
/// (<see cref="Observe"/>, with the record's <see cref="VmIdentity"/> and <see cref="AppMetadata"/>), bounded in memory,
/// saved to a snapshot file and restored across restarts. One store per thread; a profile is allocated once per VM or
/// network, nothing per flow after that.
/// </summary>
/// <example>
/// <code>
/// var profiles = ProfileStore.LoadOrEmpty("profiles.bin", options: null, out string? error);
/// // in the sink, per record i: profiles.Observe(records[i], vms.ForRecord(i), metadata.ForRecord(i));
/// profiles.Save("profiles.bin");
/// </code>
/// </example>
public sealed class ProfileStore
{
    private const uint Magic = 0x4F525046; // "FPRO" little-endian
    private const ushort Version = 1;
    private const uint EndMagic = 0x444E4546; // "FEND"

    private readonly ProfileOptions _options;
    private readonly FlowClock _clock;
    private readonly Dictionary<VmInfo, BehaviourProfile> _byVm = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, BehaviourProfile> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<(VirtualNetworkKind, uint), BehaviourProfile> _byNetwork = [];

    /// <summary>An empty store.</summary>
    /// <param name="options">Settings; defaults when null.</param>
    public ProfileStore(ProfileOptions? options = null)
    {
        _options = options ?? new ProfileOptions();
        _options.Validate();
        _clock = new FlowClock(_options.TimeZone);
    }

    /// <summary>The settings.</summary>
    public ProfileOptions Options => _options;

    /// <summary>The clock of the hour-of-week shapes (the store's thread only).</summary>
    public FlowClock Clock => _clock;

    /// <summary>Every profile, VMs and networks.</summary>
    public IReadOnlyCollection<BehaviourProfile> Profiles => _byName.Values;

    /// <summary>Flow ends not profiled because <see cref="ProfileOptions.MaxProfiles"/> was reached.</summary>
    public long ProfilesRefused { get; private set; }

    /// <summary>The profile named <paramref name="name"/> (a VM's name, or <c>vni:5001</c> for a network).</summary>
    /// <param name="name">The name.</param>
    /// <param name="profile">The profile.</param>
    /// <returns>Whether it exists.</returns>
    public bool TryGet(string name, out BehaviourProfile profile) => _byName.TryGetValue(name, out profile!);

    /// <summary>Learns from one emitted flow record: its VMs' profiles (when known) and its network's.</summary>
    /// <param name="record">The record.</param>
    /// <param name="vms">Its VMs (from <see cref="VmIdentityTable.ForRecord"/>).</param>
    /// <param name="metadata">Its application metadata, or default.</param>
    /// <returns>What was new to the originator VM's profile (for features and the classifier).</returns>
    public ProfileUpdate Observe(in FlowRecord record, in VmIdentity vms, in AppMetadata metadata)
    {
        long localHour = _clock.LocalHour(record.LastNs);
        int app = (int)metadata.App;
        ReadOnlySpan<byte> dnsName = metadata.Get(AppField.DnsQuery);
        ReadOnlySpan<byte> sni = metadata.Get(AppField.TlsSni);
        ulong service = ((ulong)record.Protocol << 16) | record.DestinationPort;
        Span<byte> serviceLabel = stackalloc byte[3];
        serviceLabel[0] = record.Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(serviceLabel[1..], record.DestinationPort);

        var update = default(ProfileUpdate);
        if (vms.Source is VmInfo src && ForVm(src) is BehaviourProfile s)
        {
            update.NewPeer = ObserveEnd(s, in record, originator: true, localHour, app, service, serviceLabel, out update.PeerFirstSeenNs, out update.NewService);
            if (!dnsName.IsEmpty)
            {
                update.NewDnsName = !AddName(s.DnsNames, dnsName, record.FirstNs);
            }

            if (!sni.IsEmpty)
            {
                update.NewServerName = !AddName(s.TlsServerNames, sni, record.FirstNs);
            }

            update.Source = s;
        }

        if (vms.Destination is VmInfo dst && ForVm(dst) is BehaviourProfile d)
        {
            update.ResponderNewPeer = ObserveEnd(d, in record, originator: false, localHour, app, service, serviceLabel, out update.ResponderPeerFirstSeenNs, out _);
            update.Destination = d;
        }

        if (ForNetwork(record.VnKind, record.VnId) is BehaviourProfile n)
        {
            // For the network, the peer is the far end of flows that cross its boundary, else the responder.
            bool outbound = vms.DestinationOutside || !vms.SourceOutside;
            Span<byte> peer = stackalloc byte[17];
            ulong peerKey = vms.SourceOutside
                ? AddressKey(record.SourceAddress, record.IpVersion, peer)
                : AddressKey(record.DestinationAddress, record.IpVersion, peer);
            n.CountFlow(outbound, record.FirstNs, record.LastNs, record.Protocol, app);
            double bytesOut = vms.DestinationOutside ? record.ForwardBytes : vms.SourceOutside ? record.ReverseBytes : 0;
            double bytesIn = vms.DestinationOutside ? record.ReverseBytes : vms.SourceOutside ? record.ForwardBytes : 0;
            n.AddBytes(record.LastNs, localHour, bytesOut, bytesIn);
            n.Peers.Add(peerKey, (long)(record.ForwardBytes + record.ReverseBytes), record.FirstNs, peer);
            n.PeerFirstSeen.Observe(peerKey, record.FirstNs, out _);
            n.ServicesOffered.Add(service, (long)record.ReverseBytes, record.FirstNs, serviceLabel);
            if (!dnsName.IsEmpty)
            {
                AddName(n.DnsNames, dnsName, record.FirstNs);
            }

            if (!sni.IsEmpty)
            {
                AddName(n.TlsServerNames, sni, record.FirstNs);
            }

            update.Network = n;
        }

        return update;
    }

    /// <summary>Forgets the profile named <paramref name="name"/> (e.g. a learned VM later recognised as outside).</summary>
    /// <param name="name">The name.</param>
    /// <returns>Whether it existed.</returns>
    public bool Remove(string name)
    {
        if (!_byName.Remove(name, out BehaviourProfile? p))
        {
            return false;
        }

        foreach (KeyValuePair<VmInfo, BehaviourProfile> e in _byVm.Where(e => ReferenceEquals(e.Value, p)).ToList())
        {
            _byVm.Remove(e.Key);
        }

        foreach (KeyValuePair<(VirtualNetworkKind, uint), BehaviourProfile> e in _byNetwork.Where(e => ReferenceEquals(e.Value, p)).ToList())
        {
            _byNetwork.Remove(e.Key);
        }

        return true;
    }

    // One VM end of a flow: its counts, volumes (out is what this end sent), the peer at the other end, and the
    // service as used (originator) or offered (responder). Returns whether the peer was new to the VM.
    private static bool ObserveEnd(BehaviourProfile p, in FlowRecord record, bool originator, long localHour, int app, ulong service, ReadOnlySpan<byte> serviceLabel, out long peerFirstSeenNs, out bool newService)
    {
        Span<byte> peer = stackalloc byte[17];
        ulong peerKey = AddressKey(originator ? record.DestinationAddress : record.SourceAddress, record.IpVersion, peer);
        ulong sent = originator ? record.ForwardBytes : record.ReverseBytes, received = originator ? record.ReverseBytes : record.ForwardBytes;
        p.CountFlow(outbound: originator, record.FirstNs, record.LastNs, record.Protocol, app);
        p.AddBytes(record.LastNs, localHour, sent, received);
        p.Peers.Add(peerKey, (long)sent, record.FirstNs, peer);
        bool newPeer = p.PeerFirstSeen.Observe(peerKey, record.FirstNs, out peerFirstSeenNs);
        newService = !(originator ? p.ServicesUsed : p.ServicesOffered).Add(service, (long)sent, record.FirstNs, serviceLabel);
        return newPeer;
    }

    /// <summary>Adds a resource sample of <paramref name="vm"/> to its baselines.</summary>
    /// <param name="vm">The VM.</param>
    /// <param name="cpuCores">CPU share, cores (NaN when unknown).</param>
    /// <param name="memoryBytes">Memory in use (NaN when unknown).</param>
    /// <param name="diskReadBytesPerSecond">Disk reads (NaN when unknown).</param>
    /// <param name="diskWriteBytesPerSecond">Disk writes (NaN when unknown).</param>
    public void ObserveResources(VmInfo vm, double cpuCores, double memoryBytes, double diskReadBytesPerSecond, double diskWriteBytesPerSecond)
        => ForVm(vm)?.ObserveResources(cpuCores, memoryBytes, diskReadBytesPerSecond, diskWriteBytesPerSecond);

    /// <summary>The address as a profile key, and its 16 bytes and IP version as the label.</summary>
    /// <param name="address">The address.</param>
    /// <param name="ipVersion">4 or 6.</param>
    /// <param name="label">17 bytes: the address, then the version.</param>
    /// <returns>The key.</returns>
    public static ulong AddressKey(IpAddress address, byte ipVersion, Span<byte> label)
    {
        address.WriteBytes(label);
        label[16] = ipVersion;
        return XxHash3.HashToUInt64(label[..17]);
    }

    /// <summary>The key of a DNS or TLS server name: case-folded (ASCII), a trailing dot ignored.</summary>
    /// <param name="name">The name as on the wire.</param>
    /// <returns>The key.</returns>
    public static ulong NameKey(ReadOnlySpan<byte> name)
    {
        Span<byte> folded = stackalloc byte[Math.Min(name.Length, 255)];
        int n = 0;
        foreach (byte b in name[..folded.Length])
        {
            folded[n++] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        }

        if (n > 0 && folded[n - 1] == '.')
        {
            n--;
        }

        return XxHash3.HashToUInt64(folded[..n]);
    }

    /// <summary>Writes every profile to <paramref name="path"/> (a temporary file renamed over it: a crash leaves the old one).</summary>
    /// <param name="path">The snapshot file.</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Save(file);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Writes every profile to <paramref name="stream"/>: a header, one CRC-32-checked frame per profile, an end mark.</summary>
    /// <param name="stream">Where to.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write((ushort)0);
        w.Write(_byName.Count);
        var frame = new MemoryStream();
        foreach (BehaviourProfile p in _byName.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            frame.SetLength(0);
            using (var fw = new BinaryWriter(frame, Encoding.UTF8, leaveOpen: true))
            {
                p.Write(fw);
            }

            w.Write((int)frame.Length);
            w.Write(frame.GetBuffer(), 0, (int)frame.Length);
            w.Write(Crc32.HashToUInt32(frame.GetBuffer().AsSpan(0, (int)frame.Length)));
        }

        w.Write(EndMagic);
        w.Write(_byName.Count);
    }

    /// <summary>Reads a snapshot.</summary>
    /// <param name="path">The snapshot file.</param>
    /// <param name="options">Settings for the store (they need not match the writer's: tracked entries beyond the capacities are dropped, least first).</param>
    /// <returns>The store.</returns>
    /// <exception cref="ProfileSnapshotException">The file is not a snapshot, or it is damaged (the message names file and offset).</exception>
    public static ProfileStore Load(string path, ProfileOptions? options)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Load(file, path, options);
    }

    /// <summary>Reads a snapshot from <paramref name="stream"/>.</summary>
    /// <param name="stream">The bytes.</param>
    /// <param name="source">Their name, for errors.</param>
    /// <param name="options">Settings.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ProfileSnapshotException">Not a snapshot, or damaged.</exception>
    public static ProfileStore Load(Stream stream, string source, ProfileOptions? options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var store = new ProfileStore(options);
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        long offset = 0;
        try
        {
            if (r.ReadUInt32() != Magic)
            {
                throw new ProfileSnapshotException(source, 0, "not a FlowEngine profile snapshot (bad magic)");
            }

            ushort version = r.ReadUInt16();
            if (version != Version)
            {
                throw new ProfileSnapshotException(source, 4, $"snapshot version {version}; this FlowEngine reads version {Version}");
            }

            if (r.ReadUInt16() != 0)
            {
                throw new ProfileSnapshotException(source, 6, "reserved header field is not zero");
            }

            int count = r.ReadInt32();
            if (count < 0)
            {
                throw new ProfileSnapshotException(source, 8, $"bad profile count {count}");
            }

            offset = 12;
            for (int i = 0; i < count; i++)
            {
                int length = r.ReadInt32();
                if (length <= 0 || length > 64 << 20)
                {
                    throw new ProfileSnapshotException(source, offset, $"profile {i + 1} of {count}: bad frame length {length}");
                }

                byte[] bytes = r.ReadBytes(length);
                if (bytes.Length != length)
                {
                    throw new ProfileSnapshotException(source, offset, $"profile {i + 1} of {count}: the file ends inside its frame");
                }

                if (r.ReadUInt32() != Crc32.HashToUInt32(bytes))
                {
                    throw new ProfileSnapshotException(source, offset, $"profile {i + 1} of {count}: checksum mismatch");
                }

                BehaviourProfile p;
                try
                {
                    using var fr = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
                    p = BehaviourProfile.Read(fr, store._options);
                }
                catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or FormatException)
                {
                    throw new ProfileSnapshotException(source, offset, $"profile {i + 1} of {count}: {e.Message}", e);
                }

                if (!store._byName.TryAdd(p.Name, p))
                {
                    throw new ProfileSnapshotException(source, offset, $"profile '{p.Name}' appears twice");
                }

                offset += 8 + length;
            }

            if (r.ReadUInt32() != EndMagic || r.ReadInt32() != count)
            {
                throw new ProfileSnapshotException(source, offset, "no end mark after the last profile (a cut or overwritten file)");
            }
        }
        catch (EndOfStreamException e)
        {
            throw new ProfileSnapshotException(source, offset, "the file ends early", e);
        }

        foreach (BehaviourProfile p in store._byName.Values)
        {
            if (p.Kind == ProfileKind.VirtualNetwork && TryParseNetwork(p.Name, out VirtualNetworkKind kind, out uint id))
            {
                store._byNetwork[(kind, id)] = p;
            }
        }

        return store;
    }

    /// <summary>
    /// Reads the snapshot when it exists and is sound; otherwise starts empty. A damaged snapshot never stops a
    /// sensor: <paramref name="error"/> says what was wrong (file and offset), and the store starts empty.
    /// </summary>
    /// <param name="path">The snapshot file.</param>
    /// <param name="options">Settings.</param>
    /// <param name="error">Null when the snapshot was read, or did not exist.</param>
    /// <returns>The store.</returns>
    public static ProfileStore LoadOrEmpty(string path, ProfileOptions? options, out string? error)
    {
        error = null;
        if (!File.Exists(path))
        {
            return new ProfileStore(options);
        }

        try
        {
            return Load(path, options);
        }
        catch (Exception e) when (e is ProfileSnapshotException or IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return new ProfileStore(options);
        }
    }

    /// <summary>A network's profile name: <c>vni:5001</c> (VXLAN and Geneve share VNIs), <c>vlan:10</c>, <c>gre:7</c>, <c>none</c>.</summary>
    /// <param name="kind">The kind.</param>
    /// <param name="id">The id.</param>
    /// <returns>The name.</returns>
    public static string NetworkName(VirtualNetworkKind kind, uint id) => kind switch
    {
        VirtualNetworkKind.Vxlan or VirtualNetworkKind.Geneve => $"vni:{id}",
        VirtualNetworkKind.Vlan => $"vlan:{id}",
        VirtualNetworkKind.Gre => $"gre:{id}",
        _ => "none",
    };

    private static bool TryParseNetwork(string name, out VirtualNetworkKind kind, out uint id)
    {
        kind = VirtualNetworkKind.None;
        id = 0;
        int colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return name == "none";
        }

        kind = name[..colon] switch
        {
            "vni" => VirtualNetworkKind.Vxlan,
            "vlan" => VirtualNetworkKind.Vlan,
            "gre" => VirtualNetworkKind.Gre,
            _ => VirtualNetworkKind.None,
        };
        return kind != VirtualNetworkKind.None && uint.TryParse(name.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id);
    }

    private static bool AddName(HeavyHitters names, ReadOnlySpan<byte> name, long timeNs) => names.Add(NameKey(name), 0, timeNs, name);

    private BehaviourProfile? ForVm(VmInfo vm)
    {
        if (_byVm.TryGetValue(vm, out BehaviourProfile? p))
        {
            return p;
        }

        if (!_byName.TryGetValue(vm.Name, out p))
        {
            if (_byName.Count >= _options.MaxProfiles)
            {
                ProfilesRefused++;
                return null;
            }

            p = new BehaviourProfile(vm.Name, ProfileKind.Vm, _options);
            _byName.Add(vm.Name, p);
        }

        _byVm.Add(vm, p);
        return p;
    }

    private BehaviourProfile? ForNetwork(VirtualNetworkKind kind, uint id)
    {
        var key = (kind is VirtualNetworkKind.Geneve ? VirtualNetworkKind.Vxlan : kind, id);
        if (_byNetwork.TryGetValue(key, out BehaviourProfile? p))
        {
            return p;
        }

        string name = NetworkName(kind, id);
        if (!_byName.TryGetValue(name, out p))
        {
            if (_byName.Count >= _options.MaxProfiles)
            {
                ProfilesRefused++;
                return null;
            }

            p = new BehaviourProfile(name, ProfileKind.VirtualNetwork, _options);
            _byName.Add(name, p);
        }

        _byNetwork.Add(key, p);
        return p;
    }
}

/// <summary>What one flow was new to (from <see cref="ProfileStore.Observe"/>): the originator's and the responder's profiles.</summary>
public struct ProfileUpdate
{
    /// <summary>The originator VM's profile, or null.</summary>
    public BehaviourProfile? Source;

    /// <summary>The responder VM's profile, or null.</summary>
    public BehaviourProfile? Destination;

    /// <summary>The network's profile, or null.</summary>
    public BehaviourProfile? Network;

    /// <summary>The originator had never (within its history) talked to this responder.</summary>
    public bool NewPeer;

    /// <summary>When the originator first talked to this responder.</summary>
    public long PeerFirstSeenNs;

    /// <summary>The responder VM had never (within its history) been called by this originator.</summary>
    public bool ResponderNewPeer;

    /// <summary>When the responder first saw this originator.</summary>
    public long ResponderPeerFirstSeenNs;

    /// <summary>The service (protocol, port) was not among the originator's usual ones.</summary>
    public bool NewService;

    /// <summary>The DNS name was not among the originator's usual ones.</summary>
    public bool NewDnsName;

    /// <summary>The TLS server name was not among the originator's usual ones.</summary>
    public bool NewServerName;
}

/// <summary>A profile snapshot that cannot be read: the message names the file and the byte offset.</summary>
public sealed class ProfileSnapshotException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="file">The snapshot.</param>
    /// <param name="offset">Byte offset of the damage.</param>
    /// <param name="message">What is wrong.</param>
    /// <param name="inner">The underlying error.</param>
    public ProfileSnapshotException(string file, long offset, string message, Exception? inner = null)
        : base($"{file}: offset {offset}: {message}; starting with empty profiles is safe", inner)
    {
        File = file;
        Offset = offset;
    }

    /// <summary>The snapshot.</summary>
    public string File { get; }

    /// <summary>Byte offset of the damage.</summary>
    public long Offset { get; }
}
