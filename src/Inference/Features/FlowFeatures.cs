// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Inference.Features;

/// <summary>Which end of a flow the VM whose sequence a row belongs to is.</summary>
public enum FlowPerspective : byte
{
    /// <summary>The VM originated the flow.</summary>
    Originator = 0,

    /// <summary>The VM answered it.</summary>
    Responder = 1,
}

/// <summary>The context a flow's row is assembled from besides the record: all optional (missing is marked in the row).</summary>
public readonly ref struct FlowContext
{
    /// <summary>Context for a record.</summary>
    /// <param name="vms">The record's VMs.</param>
    /// <param name="metadata">Its application metadata, or default.</param>
    /// <param name="profile">What the flow was new to in the VMs' profiles, or default.</param>
    /// <param name="hasMetadata">Whether application metadata was collected at all (false: the app columns are missing, not "unknown").</param>
    /// <param name="hasProfile">Whether <paramref name="profile"/> is filled.</param>
    /// <param name="states">The VMs' resource state (a live store or a replayed timeline), or null.</param>
    public FlowContext(in VmIdentity vms, in AppMetadata metadata, in ProfileUpdate profile, bool hasMetadata, bool hasProfile, IVmStateSource? states = null)
    {
        States = states;
        Vms = vms;
        Metadata = metadata;
        Profile = profile;
        HasMetadata = hasMetadata;
        HasProfile = hasProfile;
    }

    /// <summary>The record's VMs.</summary>
    public VmIdentity Vms { get; }

    /// <summary>Its application metadata.</summary>
    public AppMetadata Metadata { get; }

    /// <summary>What it was new to.</summary>
    public ProfileUpdate Profile { get; }

    /// <summary>Application metadata was collected.</summary>
    public bool HasMetadata { get; }

    /// <summary>The profile update is filled.</summary>
    public bool HasProfile { get; }

    /// <summary>The VMs' resource state, or null.</summary>
    public IVmStateSource? States { get; }
}

/// <summary>
/// Turns a flow record and its context into the model's input row (raw values; <see cref="FeatureNormalizer"/>
/// normalises them) and into its targets (the classes and values the model's heads predict), from the perspective of one
/// of its VMs. Columns are listed in <see cref="FeatureSchema"/> and docs/features.md. Allocates nothing.
/// </summary>
public static class FlowFeatures
{
    /// <summary>Writes the row of <paramref name="record"/> for the VM at <paramref name="perspective"/>.</summary>
    /// <param name="record">The flow.</param>
    /// <param name="context">Its context.</param>
    /// <param name="perspective">Whose row.</param>
    /// <param name="clock">Local time (the deployment's time zone).</param>
    /// <param name="row">Out: <see cref="FeatureSchema.Width"/> values; unknown ones NaN.</param>
    public static void Assemble(in FlowRecord record, in FlowContext context, FlowPerspective perspective, FlowClock clock, Span<float> row)
    {
        ArgumentNullException.ThrowIfNull(clock);
        if (row.Length != FeatureSchema.Width)
        {
            throw new ArgumentException($"a row has {FeatureSchema.Width} columns, not {row.Length}", nameof(row));
        }

        row.Clear();
        bool originator = perspective == FlowPerspective.Originator;
        VmIdentity vms = context.Vms;

        // Network kind and direction.
        row[FeatureSchema.VnKind + VnKindIndex(record.VnKind)] = 1;
        row[FeatureSchema.IsResponder] = originator ? 0 : 1;

        // Relation of the peer to this VM, and protocol, service and application.
        row[FeatureSchema.Relation + Relation(in record, in context, perspective)] = 1;
        row[FeatureSchema.Protocol + ProtocolIndex(record.Protocol)] = 1;
        row[FeatureSchema.Port + PortClass.Of(record.Protocol, record.DestinationPort)] = 1;
        AppMetadata m = context.Metadata;
        if (context.HasMetadata)
        {
            row[FeatureSchema.App + AppIndex(m.App)] = 1;
        }
        else
        {
            row.Slice(FeatureSchema.App, FeatureSchema.AppClasses).Fill(float.NaN);
            row[FeatureSchema.MissingMetadata] = 1;
        }

        // Volumes, relative to the VM: out is what it sent.
        ulong packetsOut = originator ? record.ForwardPackets : record.ReversePackets, packetsIn = originator ? record.ReversePackets : record.ForwardPackets;
        ulong bytesOut = originator ? record.ForwardBytes : record.ReverseBytes, bytesIn = originator ? record.ReverseBytes : record.ForwardBytes;
        row[FeatureSchema.LogPacketsOut] = Log1P(packetsOut);
        row[FeatureSchema.LogPacketsIn] = Log1P(packetsIn);
        row[FeatureSchema.LogBytesOut] = Log1P(bytesOut);
        row[FeatureSchema.LogBytesIn] = Log1P(bytesIn);
        row[FeatureSchema.LogDuration] = Log1P(Math.Max(0, record.LastNs - record.FirstNs) / 1e9);
        (double sizeOut, double varOut, double iatOut) = originator ? (record.ForwardSizeMean, record.ForwardSizeVariance, record.ForwardIatMeanUs) : (record.ReverseSizeMean, record.ReverseSizeVariance, record.ReverseIatMeanUs);
        (double sizeIn, double varIn, double iatIn) = originator ? (record.ReverseSizeMean, record.ReverseSizeVariance, record.ReverseIatMeanUs) : (record.ForwardSizeMean, record.ForwardSizeVariance, record.ForwardIatMeanUs);
        row[FeatureSchema.LogSizeMeanOut] = Log1P(sizeOut);
        row[FeatureSchema.LogSizeStdOut] = Log1P(Math.Sqrt(Math.Max(0, varOut)));
        row[FeatureSchema.LogSizeMeanIn] = Log1P(sizeIn);
        row[FeatureSchema.LogSizeStdIn] = Log1P(Math.Sqrt(Math.Max(0, varIn)));
        row[FeatureSchema.LogIatOut] = Log1P(iatOut);
        row[FeatureSchema.LogIatIn] = Log1P(iatIn);

        // TCP: how the connection went.
        if (record.Protocol == 6)
        {
            row[FeatureSchema.TcpState + TcpStateIndex(record.State)] = 1;
            TcpFlags all = record.ForwardTcpFlags | record.ReverseTcpFlags;
            row[FeatureSchema.TcpSynOnly] = (record.ForwardTcpFlags & ~(TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr)) == 0 && record.ReversePackets == 0 ? 1 : 0;
            row[FeatureSchema.TcpReset] = (all & TcpFlags.Rst) != 0 ? 1 : 0;
            row[FeatureSchema.TcpFin] = (all & TcpFlags.Fin) != 0 ? 1 : 0;
        }

        // DNS, TLS, HTTP.
        ReadOnlySpan<byte> name = m.Get(AppField.DnsQuery);
        if (!name.IsEmpty)
        {
            DnsNameStatistics(name, out float length, out float labels, out float longest, out float entropy, out float digits, out float hex);
            row[FeatureSchema.DnsNameLength] = length;
            row[FeatureSchema.DnsLabels] = labels;
            row[FeatureSchema.DnsLongestLabel] = longest;
            row[FeatureSchema.DnsEntropy] = entropy;
            row[FeatureSchema.DnsDigitShare] = digits;
            row[FeatureSchema.DnsHexShare] = hex;
            row[FeatureSchema.DnsTxtOrNull] = m.DnsQueryType is 16 or 10 ? 1 : 0;
            row[FeatureSchema.DnsError] = m.DnsResponseCode != 0 ? 1 : 0;
            row[FeatureSchema.DnsLogAnswers] = Log1P((ulong)Math.Max(0, m.DnsAnswerCount));
            row[FeatureSchema.DnsLogQueries] = Log1P((ulong)Math.Max(0, m.DnsQueryCount));
            row[FeatureSchema.DnsNewName] = context.HasProfile && originator ? (context.Profile.NewDnsName ? 1 : 0) : float.NaN;
        }

        ReadOnlySpan<byte> sni = m.Get(AppField.TlsSni);
        row[FeatureSchema.TlsHasSni] = sni.IsEmpty ? 0 : 1;
        row[FeatureSchema.TlsSniLength] = sni.Length / 64f;
        row[FeatureSchema.TlsNewSni] = sni.IsEmpty ? 0 : context.HasProfile && originator ? (context.Profile.NewServerName ? 1 : 0) : float.NaN;
        row[FeatureSchema.TlsHasJa4] = m.Get(AppField.Ja4).IsEmpty ? 0 : 1;
        row[FeatureSchema.HttpError] = m.HttpStatus >= 400 ? 1 : 0;

        // Novelty for this VM.
        if (context.HasProfile)
        {
            ProfileUpdate p = context.Profile;
            bool newPeer = originator ? p.NewPeer : p.ResponderNewPeer;
            long firstSeen = originator ? p.PeerFirstSeenNs : p.ResponderPeerFirstSeenNs;
            row[FeatureSchema.NewPeer] = newPeer ? 1 : 0;
            row[FeatureSchema.NewService] = originator ? (p.NewService ? 1 : 0) : float.NaN;
            row[FeatureSchema.LogPeerAge] = Log1P(Math.Max(0, record.FirstNs - firstSeen) / 1e9);
        }
        else
        {
            row[FeatureSchema.NewPeer] = float.NaN;
            row[FeatureSchema.NewService] = float.NaN;
            row[FeatureSchema.LogPeerAge] = float.NaN;
            row[FeatureSchema.MissingProfile] = 1;
        }

        // Resource state of this VM and of the peer VM at the flow's start.
        VmInfo? self = originator ? vms.Source : vms.Destination, peerVm = originator ? vms.Destination : vms.Source;
        bool selfState = State(context.States, self, record.FirstNs, row.Slice(FeatureSchema.Resources, 4));
        bool peerState = State(context.States, peerVm, record.FirstNs, row.Slice(FeatureSchema.Resources + 4, 4));
        row[FeatureSchema.MissingResources] = selfState || peerState ? 0 : 1;

        // Time: local time of day and day of week as angles, and the VM's gap since its previous flow.
        double dayFraction = clock.SecondsOfDay(record.FirstNs) / 86400.0;
        double day = dayFraction * 2 * Math.PI;
        double week = (clock.DayOfWeek(record.FirstNs) + dayFraction) / 7.0 * 2 * Math.PI;
        row[FeatureSchema.TimeOfDaySin] = (float)Math.Sin(day);
        row[FeatureSchema.TimeOfDayCos] = (float)Math.Cos(day);
        row[FeatureSchema.DayOfWeekSin] = (float)Math.Sin(week);
        row[FeatureSchema.DayOfWeekCos] = (float)Math.Cos(week);
        float gap = originator ? vms.SourceSecondsSincePrevious : vms.DestinationSecondsSincePrevious;
        row[FeatureSchema.LogGap] = float.IsNaN(gap) ? float.NaN : Log1P(gap);
        row[FeatureSchema.FirstFlowOfVm] = float.IsNaN(gap) ? 1 : 0;

        // Where the VM's identity came from.
        VmInfo? vm = originator ? vms.Source : vms.Destination;
        row[FeatureSchema.MissingInventory] = vm is null || vm.Source == VmSource.Learned ? 1 : 0;
    }

    // CPU cores, log(1 + memory bytes), log(1 + disk read and write bytes per second); NaN where unknown.
    private static bool State(IVmStateSource? states, VmInfo? vm, long timeNs, Span<float> into)
    {
        into.Fill(float.NaN);
        if (states is null || vm is null || !states.TryGetState(vm.Name, timeNs, out VmResourceState s))
        {
            return false;
        }

        if (s.Has(VmResourceFields.Cpu))
        {
            into[0] = (float)s.CpuCores;
        }

        if (s.Has(VmResourceFields.Memory))
        {
            into[1] = Log1P((ulong)Math.Max(0, s.MemoryBytes));
        }

        if (s.Has(VmResourceFields.DiskRead))
        {
            into[2] = Log1P(s.DiskReadBytesPerSecond);
        }

        if (s.Has(VmResourceFields.DiskWrite))
        {
            into[3] = Log1P(s.DiskWriteBytesPerSecond);
        }

        return true;
    }

    /// <summary>Writes the targets of <paramref name="record"/> for the VM at <paramref name="perspective"/>: what its heads are scored on.</summary>
    /// <param name="record">The flow.</param>
    /// <param name="context">Its context.</param>
    /// <param name="perspective">Whose targets.</param>
    /// <param name="classes">Out: <see cref="FeatureSchema.CategoricalHeads"/> classes (-1 unknown).</param>
    /// <param name="values">Out: <see cref="FeatureSchema.GaussianHeads"/> values (NaN unknown).</param>
    public static void Targets(in FlowRecord record, in FlowContext context, FlowPerspective perspective, Span<int> classes, Span<float> values)
    {
        bool originator = perspective == FlowPerspective.Originator;
        classes[0] = Relation(in record, in context, perspective);
        classes[1] = PeerBucket(originator ? record.DestinationAddress : record.SourceAddress, record.IpVersion);
        classes[2] = PortClass.Of(record.Protocol, record.DestinationPort) + (originator ? 0 : PortClass.Count);
        classes[3] = context.HasMetadata ? AppIndex(context.Metadata.App) : -1;
        values[0] = Log1P(record.ForwardBytes + record.ReverseBytes);
        float gap = originator ? context.Vms.SourceSecondsSincePrevious : context.Vms.DestinationSecondsSincePrevious;
        values[1] = float.IsNaN(gap) ? float.NaN : Log1P(gap);
    }

    /// <summary>The peer's bucket among <see cref="FeatureSchema.PeerBuckets"/> (a hash of its address).</summary>
    /// <param name="peer">The peer's address.</param>
    /// <param name="ipVersion">4 or 6.</param>
    /// <returns>The bucket.</returns>
    public static int PeerBucket(IpAddress peer, byte ipVersion)
    {
        Span<byte> label = stackalloc byte[17];
        return (int)(ProfileStore.AddressKey(peer, ipVersion, label) % FeatureSchema.PeerBuckets);
    }

    /// <summary>Length, labels, longest label, Shannon entropy (bits per character), digit share and hex-letter share of a DNS name.</summary>
    internal static void DnsNameStatistics(ReadOnlySpan<byte> name, out float length, out float labels, out float longest, out float entropy, out float digits, out float hex)
    {
        Span<int> counts = stackalloc int[256];
        counts.Clear();
        int n = 0, labelCount = 0, label = 0, maxLabel = 0, digitCount = 0, hexCount = 0;
        foreach (byte b in name)
        {
            if (b == '.')
            {
                labelCount += label > 0 ? 1 : 0;
                maxLabel = Math.Max(maxLabel, label);
                label = 0;
                continue;
            }

            byte c = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
            counts[c]++;
            n++;
            label++;
            digitCount += c is >= (byte)'0' and <= (byte)'9' ? 1 : 0;
            hexCount += c is >= (byte)'a' and <= (byte)'f' ? 1 : 0;
        }

        labelCount += label > 0 ? 1 : 0;
        maxLabel = Math.Max(maxLabel, label);
        double h = 0;
        for (int i = 0; i < 256; i++)
        {
            if (counts[i] != 0)
            {
                double p = counts[i] / (double)n;
                h -= p * Math.Log2(p);
            }
        }

        length = name.Length / 64f;
        labels = labelCount / 4f;
        longest = maxLabel / 63f;
        entropy = (float)(h / 4.0);
        digits = n == 0 ? 0 : digitCount / (float)n;
        hex = n == 0 ? 0 : (digitCount + hexCount) / (float)n;
    }

    private static int Relation(in FlowRecord record, in FlowContext context, FlowPerspective perspective)
    {
        bool originator = perspective == FlowPerspective.Originator;
        VmIdentity v = context.Vms;
        IpAddress peer = originator ? record.DestinationAddress : record.SourceAddress;
        if (!VmIdentityTable.IsUnicastEndpoint(peer, record.IpVersion))
        {
            return FeatureSchema.RelationMulticast;
        }

        bool outside = originator ? v.DestinationOutside : v.SourceOutside;
        bool vm = (originator ? v.Destination : v.Source) is not null;
        int kind = outside ? 2 : vm ? 0 : 4;
        if (!context.HasProfile)
        {
            return kind;
        }

        bool isNew = originator ? context.Profile.NewPeer : context.Profile.ResponderNewPeer;
        return kind + (isNew ? 1 : 0);
    }

    private static int VnKindIndex(VirtualNetworkKind kind) => kind switch
    {
        VirtualNetworkKind.Vlan => 1,
        VirtualNetworkKind.Vxlan => 2,
        VirtualNetworkKind.Geneve => 3,
        VirtualNetworkKind.Gre => 4,
        _ => 0,
    };

    private static int ProtocolIndex(byte protocol) => protocol switch
    {
        6 => 0,
        17 => 1,
        1 or 58 => 2,
        _ => 3,
    };

    private static int AppIndex(AppProtocol app) => (int)app is >= 0 and < FeatureSchema.AppClasses ? (int)app : 0;

    private static int TcpStateIndex(ConnectionState state) => state switch
    {
        ConnectionState.SF or ConnectionState.S1 or ConnectionState.S2 or ConnectionState.S3 => 0, // established
        ConnectionState.S0 or ConnectionState.SH => 1, // attempted, no answer
        ConnectionState.Rej => 2, // rejected
        ConnectionState.Rsto or ConnectionState.Rstr or ConnectionState.Rstos0 or ConnectionState.Rstrh => 3, // reset
        _ => 4, // mid-stream, other
    };

    private static float Log1P(ulong v) => (float)Math.Log(1.0 + v);

    private static float Log1P(double v) => (float)Math.Log(1.0 + Math.Max(0, v));
}
