// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Text;
using FlowEngine.AppLayer;
using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Detection.Internal;
using FlowEngine.Flows;

namespace FlowEngine.Detection;

/// <summary>
/// Classifies emitted flows into <see cref="AttackClass"/>es: exfiltration, C2 beaconing, malware (threat
/// intelligence and resource abuse), denial of service, scans, DNS tunnels and lateral movement, each from the
/// flow's features, its VMs' profiles and, when a model ran, which of its heads were surprised; a model alert that
/// fits no class is <see cref="AttackClass.Anomaly"/>. Every alert carries its evidence (docs/detection.md).
/// </summary>
/// <remarks>
/// Counting rules keep bounded state per key (source, destination, pair, client and domain) in tables of fixed
/// size; a classified flow allocates only its alert. Feed records in emission order from one thread; packet time
/// drives every window, so a replay classifies as the live run did.
/// </remarks>
public sealed class FlowClassifier
{
    private readonly ClassifierOptions _options;
    private readonly ScanDetector _scan;
    private readonly DosDetector _dos;
    private readonly DnsTunnelDetector _dns;
    private readonly BeaconDetector _beacon;
    private readonly ExfiltrationDetector _exfil;
    private readonly LateralDetector _lateral;
    private readonly ThreatIntelFeed? _intel;
    private readonly IVmStateSource? _states;
    private readonly ProfileStore? _profiles;
    private readonly long _minAbuseNs;
    private readonly long[] _byClass = new long[Enum.GetValues<AttackClass>().Length];
    private long _nowNs;
    private long _intelCheckedNs;

    /// <summary>Creates a classifier.</summary>
    /// <param name="options">Thresholds (validated here).</param>
    /// <param name="intel">Threat intelligence, reloaded every 5 s of packet time when it watches files, or null.</param>
    /// <param name="states">VM resource state (for resource abuse), or null.</param>
    /// <param name="profiles">Profiles with the VMs' resource baselines, or null.</param>
    public FlowClassifier(ClassifierOptions? options = null, ThreatIntelFeed? intel = null, IVmStateSource? states = null, ProfileStore? profiles = null)
    {
        _options = options ?? new ClassifierOptions();
        _options.Validate();
        _scan = new ScanDetector(_options);
        _dos = new DosDetector(_options);
        _dns = new DnsTunnelDetector(_options);
        _beacon = new BeaconDetector(_options);
        _exfil = new ExfiltrationDetector(_options);
        _lateral = new LateralDetector(_options);
        _intel = intel;
        _states = states;
        _profiles = profiles;
        _minAbuseNs = _options.ResourceAbuse.MinDuration.Ticks * 100;
    }

    /// <summary>The thresholds.</summary>
    public ClassifierOptions Options => _options;

    /// <summary>Flows classified.</summary>
    public long Flows { get; private set; }

    /// <summary>Flows given each class, indexed by <see cref="AttackClass"/>.</summary>
    public ReadOnlySpan<long> FlowsByClass => _byClass;

    /// <summary>Keys the detectors' tables evicted to make room (state lost early; raise <see cref="ClassifierOptions.MaxKeys"/>).</summary>
    public long KeysEvicted => _scan.Evicted + _dos.Evicted + _dns.Evicted + _beacon.Evicted + _exfil.Evicted + _lateral.Evicted;

    /// <summary>Classifies one emitted flow.</summary>
    /// <param name="observation">The flow with its context.</param>
    /// <param name="alert">Its alert (count 1) when it was given a class.</param>
    /// <returns>True when it was.</returns>
    public bool Classify(in FlowObservation observation, out Alert alert)
    {
        ref readonly FlowRecord r = ref observation.Record;
        VmIdentity vms = observation.Vms;
        AppMetadata m = observation.Metadata;
        _nowNs = Math.Max(_nowNs, r.LastNs);
        long now = _nowNs;
        Flows++;
        var verdict = default(Verdict);

        Intel(in r, m, now, ref verdict);
        _scan.Observe(in r, now, ref verdict);
        _dos.Observe(in r, now, ref verdict);
        // The query name's shape, once: the tunnel rules, the beacon's DNS-name key and the alert's domain share it.
        ReadOnlySpan<byte> dnsName = m.Get(AppField.DnsQuery);
        DnsNameShape shape = dnsName.IsEmpty ? default : DnsNameShape.Of(dnsName);
        _dns.Observe(in r, in m, in shape, now, ref verdict);

        bool external = vms.DestinationOutside || (vms.Destination is null && !FlowFacts.IsPrivate(r.DestinationAddress, r.IpVersion));
        ProfileUpdate profile = observation.Profile;
        ModelSurprise model = observation.Originator;
        if (external || m.App == AppProtocol.Dns)
        {
            _beacon.Observe(in r, shape.NameHash, model.Expected, observation.HasProfile && !profile.NewPeer, profile.PeerFirstSeenNs, now, ref verdict);
        }

        if (external)
        {
            bool knownName = !m.Get(AppField.TlsSni).IsEmpty && !profile.NewServerName;
            // The model knows the VM's usual destinations best; without it, the profile's first sightings decide.
            bool unusual = model.Scored ? model.DestinationSurprised : !observation.HasProfile || (profile.NewPeer && !knownName);
            _exfil.Observe(in r, unusual, now, ref verdict);
            ResourceAbuse(in r, vms, now, ref verdict);
        }
        else if (!vms.SourceOutside && (vms.Source is not null || FlowFacts.IsPrivate(r.SourceAddress, r.IpVersion)))
        {
            _lateral.Observe(in r, model.Expected, now, ref verdict);
        }

        bool fromResponder = observation.Responder.Alert && !model.Alert;
        ModelSurprise strongest = fromResponder ? observation.Responder : model;
        if (verdict.Class == AttackClass.None)
        {
            if (!strongest.Alert)
            {
                alert = default;
                return false;
            }

            // Grouped by the head that was most surprised, and for a surprising peer by the peer.
            bool peer = strongest.Top is SurprisedHeads.Peer or SurprisedHeads.Relation;
            verdict.Offer(AttackClass.Anomaly, 0.5, fromResponder ? r.SourceAddress : r.DestinationAddress, !peer);
            verdict.Add(HeadRule(strongest.Top), strongest.Score, strongest.Threshold);
        }
        else if (strongest.Alert)
        {
            verdict.Confidence = Math.Min(1, verdict.Confidence + 0.1);
        }

        _byClass[(int)verdict.Class]++;
        alert = ToAlert(in r, vms, dnsName, in shape, in verdict, strongest, fromResponder);
        return true;
    }

    private void Intel(in FlowRecord r, AppMetadata m, long now, ref Verdict verdict)
    {
        if (_intel is null)
        {
            return;
        }

        if (now - _intelCheckedNs >= 5_000_000_000)
        {
            _intelCheckedNs = now;
            _intel.Refresh();
        }

        ThreatIntelSet set = _intel.Current;
        if (set.Count == 0)
        {
            return;
        }

        string? rule = set.Contains(r.DestinationAddress, r.IpVersion) ? "malware.listed_destination"
            : set.Contains(r.SourceAddress, r.IpVersion) ? "malware.listed_source"
            : set.ContainsDomain(m.Get(AppField.DnsQuery)) ? "malware.listed_dns_name"
            : set.ContainsDomain(m.Get(AppField.TlsSni)) ? "malware.listed_tls_server_name"
            : set.ContainsDomain(m.Get(AppField.HttpHost)) ? "malware.listed_http_host"
            : set.ContainsFingerprint(m.Get(AppField.Ja3)) ? "malware.listed_ja3"
            : set.ContainsFingerprint(m.Get(AppField.Ja4)) ? "malware.listed_ja4"
            : set.ContainsFingerprint(m.Get(AppField.Ja3s)) ? "malware.listed_ja3s"
            : null;
        if (rule is not null && verdict.Offer(AttackClass.Malware, 0.9, rule == "malware.listed_source" ? r.SourceAddress : r.DestinationAddress, true))
        {
            verdict.Add(rule, 1, double.NaN);
        }
    }

    // A coin miner: the VM's CPU busy at the flow's start and end, beyond its own baseline, with a long
    // connection out on a port that common services do not use.
    private void ResourceAbuse(in FlowRecord r, VmIdentity vms, long now, ref Verdict verdict)
    {
        if (_states is null || vms.Source is not VmInfo vm || r.LastNs - r.FirstNs < _minAbuseNs || CommonPort(r.DestinationPort))
        {
            return;
        }

        if (!_states.TryGetState(vm.Name, r.FirstNs, out VmResourceState start) || !_states.TryGetState(vm.Name, r.LastNs, out VmResourceState end)
            || !start.Has(VmResourceFields.Cpu) || !end.Has(VmResourceFields.Cpu))
        {
            return;
        }

        ResourceAbuseOptions o = _options.ResourceAbuse;
        double threshold = o.MinCpuCores;
        if (_profiles is not null && _profiles.TryGet(vm.Name, out BehaviourProfile p) && p.Cpu.Count >= 30)
        {
            threshold = Math.Max(threshold, p.Cpu.Mean + (o.StandardDeviations * Math.Sqrt(p.Cpu.Variance)));
        }

        double cpu = Math.Min(start.CpuCores, end.CpuCores);
        if (cpu >= threshold && verdict.Offer(AttackClass.Malware, 0.75, r.DestinationAddress, true))
        {
            verdict.Add("malware.cpu_cores", Math.Round(cpu, 2), threshold);
            verdict.Add("malware.connection_s", Math.Round((r.LastNs - r.FirstNs) / 1e9, 1), o.MinDuration.TotalSeconds);
            verdict.Add("malware.port", r.DestinationPort, double.NaN);
        }
    }

    private static string HeadRule(SurprisedHeads head) => head switch
    {
        SurprisedHeads.Relation => "model.relation",
        SurprisedHeads.Peer => "model.peer",
        SurprisedHeads.Port => "model.port",
        SurprisedHeads.App => "model.app",
        SurprisedHeads.Bytes => "model.log_bytes",
        SurprisedHeads.Gap => "model.log_gap",
        _ => "model.score",
    };

    private static bool CommonPort(ushort port) => port is 20 or 21 or 22 or 25 or 53 or 80 or 110 or 123 or 143 or 443 or 465 or 587 or 853 or 993 or 995 or 8080 or 8443;

    private static Alert ToAlert(in FlowRecord r, VmIdentity vms, ReadOnlySpan<byte> dnsName, in DnsNameShape shape, in Verdict verdict, ModelSurprise model, bool fromResponder)
    {
        // The VM an alert is about: the victim of a flood, else the originator (attacker, or infected VM).
        bool responder = verdict.Class == AttackClass.DenialOfService ? verdict.Target != r.SourceAddress : verdict.Class == AttackClass.Anomaly && fromResponder;
        string? vm = responder ? vms.Destination?.Name : vms.Source?.Name;
        string? targetName = null;
        if (verdict.TargetIsDomain && !dnsName.IsEmpty)
        {
            targetName = Encoding.ASCII.GetString(dnsName[shape.DomainStart..]).TrimEnd('.').ToLowerInvariant();
        }

        ReadOnlySpan<AlertEvidence> fromModel = model.Scored
            ? [new AlertEvidence("model.score", Math.Round(model.Score, 3), Math.Round(model.Threshold, 3)), new AlertEvidence("model.surprised_heads", (double)model.Heads, double.NaN)]
            : [];
        return new Alert(r.FirstNs, verdict.Class, model.Scored ? model.Score : verdict.Confidence, FlowIdentity.Of(in r))
        {
            Confidence = Math.Round(verdict.Confidence, 3),
            Vm = vm,
            Target = verdict.HasTarget ? verdict.Target : null,
            TargetName = targetName,
            Count = 1,
            LastNs = r.LastNs,
            Evidence = verdict.ToArray(fromModel),
        };
    }
}
