// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>Settings of a <see cref="VmIdentityTable"/>.</summary>
public sealed class VmIdentityOptions
{
    /// <summary>Addresses learned at most (per table); further ones are counted and stay unknown. Default 65,536.</summary>
    public int MaxLearnedAddresses { get; set; } = 65_536;

    /// <summary>
    /// A MAC seen with this many distinct IPv4 addresses inside a virtual network is a gateway (a router carries every
    /// outside address on its own MAC); its addresses are outside. Default 2: a VM interface has one IPv4 address, so
    /// the second outside peer already reveals the gateway and only the first is misjudged until then (and re-judged in
    /// every record emitted after). Raise it where VMs carry secondary addresses. Learning only.
    /// </summary>
    public int GatewayAddresses { get; set; } = 2;

    /// <summary>
    /// As <see cref="GatewayAddresses"/> for IPv6 (link-local addresses are never learned). Default 3: a VM may hold a
    /// stable and a temporary (privacy) global address.
    /// </summary>
    public int GatewayAddressesV6 { get; set; } = 3;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLearnedAddresses, 1, nameof(MaxLearnedAddresses));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxLearnedAddresses, 1 << 24, nameof(MaxLearnedAddresses));
        ArgumentOutOfRangeException.ThrowIfLessThan(GatewayAddresses, 2, nameof(GatewayAddresses));
        ArgumentOutOfRangeException.ThrowIfLessThan(GatewayAddressesV6, 2, nameof(GatewayAddressesV6));
    }
}

/// <summary>Counters of a <see cref="VmIdentityTable"/>.</summary>
public struct VmIdentityStatistics
{
    /// <summary>Flow ends resolved to a VM (at flow start).</summary>
    public long EndsResolved { get; internal set; }

    /// <summary>Flow ends outside the virtual network (behind a gateway).</summary>
    public long EndsOutside { get; internal set; }

    /// <summary>Flow ends not known.</summary>
    public long EndsUnknown { get; internal set; }

    /// <summary>Flow ends not learned because the address is multicast, broadcast, link-local, loopback or unspecified (learning only; also counted as unknown).</summary>
    public long EndsNotLearnable { get; internal set; }

    /// <summary>Addresses learned (learning only).</summary>
    public int AddressesLearned { get; internal set; }

    /// <summary>Gateways recognised (learning only).</summary>
    public int GatewaysLearned { get; internal set; }

    /// <summary>Addresses not learned because <see cref="VmIdentityOptions.MaxLearnedAddresses"/> was reached.</summary>
    public long LearnedExhausted { get; internal set; }
}
