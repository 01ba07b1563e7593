// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Flows;
using FlowEngine.Packets;

namespace FlowEngine.Detection;

/// <summary>A flow judged malicious: which flow, when, what class, how sure.</summary>
/// <param name="TimestampNs">When the alert was raised (packet time of the flow's record).</param>
/// <param name="Class">The attack class.</param>
/// <param name="Score">The detector's score (higher is more anomalous).</param>
/// <param name="Flow">The flow that raised it.</param>
public readonly record struct Alert(long TimestampNs, AttackClass Class, double Score, FlowIdentity Flow)
{
    /// <summary>How sure the classifier is, 0 to 1: a policy maps class and confidence to actions.</summary>
    public double Confidence { get; init; }

    /// <summary>The VM the alert is about (the attacker for scans, exfiltration, C2; the victim for DoS), when known.</summary>
    public string? Vm { get; init; }

    /// <summary>The other end (the victim of a scan or flood, the C2 or exfiltration peer), when one address names it.</summary>
    public IpAddress? Target { get; init; }

    /// <summary>The other end by name, when a name is what it is (the domain of a DNS tunnel, a listed domain).</summary>
    public string? TargetName { get; init; }

    /// <summary>Flows (or events) the alert stands for, at least 1.</summary>
    public int Count { get; init; }

    /// <summary>Packet time of the last flow the alert stands for; <see cref="TimestampNs"/> when only one.</summary>
    public long LastNs { get; init; }

    /// <summary>What made the classifier decide: rules, values and their thresholds, surprised model heads.</summary>
    public IReadOnlyList<AlertEvidence>? Evidence { get; init; }
}

/// <summary>One reason behind an alert: a rule, the value it saw and the threshold it compared with.</summary>
/// <param name="Rule">The rule or model head (e.g. <c>scan.distinct_hosts</c>, <c>model.peer</c>).</param>
/// <param name="Value">The value observed.</param>
/// <param name="Threshold">The threshold it passed (NaN when the rule has none).</param>
public readonly record struct AlertEvidence(string Rule, double Value, double Threshold);

/// <summary>The identity of a flow: virtual network, IP version, protocol, endpoints, start time.</summary>
/// <param name="Network">The virtual network.</param>
/// <param name="IpVersion">4 or 6.</param>
/// <param name="Protocol">IANA protocol number.</param>
/// <param name="Source">Originator address.</param>
/// <param name="SourcePort">Originator port.</param>
/// <param name="Destination">Responder address.</param>
/// <param name="DestinationPort">Responder port.</param>
/// <param name="FirstNs">Timestamp of the flow's first packet.</param>
public readonly record struct FlowIdentity(VirtualNetworkId Network, byte IpVersion, byte Protocol, IpAddress Source, ushort SourcePort, IpAddress Destination, ushort DestinationPort, long FirstNs)
{
    /// <summary>The identity of a flow record.</summary>
    /// <param name="record">The record.</param>
    /// <returns>Its identity.</returns>
    public static FlowIdentity Of(in FlowRecord record) => new(
        record.VirtualNetwork, record.IpVersion, record.Protocol, record.SourceAddress, record.SourcePort, record.DestinationAddress, record.DestinationPort, record.FirstNs);
}

/// <summary>Receives alerts.</summary>
public interface IAlertSink
{
    /// <summary>Handles one alert.</summary>
    /// <param name="alert">The alert.</param>
    void OnAlert(in Alert alert);
}

/// <summary>Judges flow records as they leave the flow tables and raises alerts.</summary>
public interface IFlowDetector
{
    /// <summary>Looks at one flow record.</summary>
    /// <param name="record">The record.</param>
    /// <param name="alerts">Where alerts go.</param>
    void OnFlow(in FlowRecord record, IAlertSink alerts);
}
