// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Export;

/// <summary>
/// FlowEngine's enterprise-specific information elements, numbered under <see cref="IpfixExporterOptions.EnterpriseNumber"/>
/// (docs/ipfix.md). Strings are variable-length UTF-8 or ASCII as seen on the wire (RFC 7011 §7), empty when absent.
/// </summary>
public enum IpfixEnterpriseElement : ushort
{
    /// <summary>unsigned8: the kind of the virtual network (<see cref="Packets.VirtualNetworkKind"/>: 0 none, 1 VLAN, 2 VXLAN, 3 Geneve, 4 GRE).</summary>
    VirtualNetworkKind = 1,

    /// <summary>unsigned32: the virtual network id (VLAN id, VNI or GRE key).</summary>
    VirtualNetworkId = 2,

    /// <summary>unsigned8: the application recognised (<see cref="AppLayer.AppProtocol"/>: 0 unknown, 1 DNS, 2 HTTP, 3 TLS, 4 SSH).</summary>
    ApplicationProtocol = 10,

    /// <summary>string: the first DNS query name.</summary>
    DnsQueryName = 11,

    /// <summary>unsigned16: the first DNS query's type.</summary>
    DnsQueryType = 12,

    /// <summary>unsigned8: the first DNS response's RCODE; 255 without a response.</summary>
    DnsResponseCode = 13,

    /// <summary>string: the HTTP Host header of the first request.</summary>
    HttpHost = 14,

    /// <summary>unsigned16: the HTTP status of the first response; 0 without one.</summary>
    HttpStatus = 15,

    /// <summary>string: the TLS server name (SNI) of the ClientHello.</summary>
    TlsServerName = 16,

    /// <summary>unsigned16: the negotiated TLS version, else the highest the client offered; 0 without a hello.</summary>
    TlsVersion = 17,

    /// <summary>string: the JA3 fingerprint of the ClientHello.</summary>
    Ja3 = 18,

    /// <summary>string: the JA4 fingerprint of the ClientHello.</summary>
    Ja4 = 19,
}
