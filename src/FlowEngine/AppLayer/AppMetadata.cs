// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Packets;

namespace FlowEngine.AppLayer;

/// <summary>
/// A view of one flow's application metadata: of a running flow (<see cref="AppMetadataTable.ForFlow"/>) or of an
/// emitted record during its sink call (<see cref="AppMetadataTable.ForRecord"/>). Text is ASCII or UTF-8 bytes as seen
/// on the wire (DNS names with Zeek's <c>\xNN</c> escapes), empty when absent. Valid only until the table moves on.
/// </summary>
public readonly ref struct AppMetadata
{
    private readonly ref readonly AppMetadataBlock _block;
    private readonly bool _hasBlock;

    internal AppMetadata(AppProtocol app, ref readonly AppMetadataBlock block, bool hasBlock)
    {
        App = app;
        _block = ref block;
        _hasBlock = hasBlock;
    }

    /// <summary>The application recognised.</summary>
    public AppProtocol App { get; }

    /// <summary>True when the flow has metadata beyond its label (numbers and text).</summary>
    public bool HasDetails => _hasBlock;

    /// <summary>DNS: the first query's type (1 A, 28 AAAA, 16 TXT, ...); 0 when no query was seen.</summary>
    public int DnsQueryType => _hasBlock ? _block.DnsQueryType : 0;

    /// <summary>DNS: the first response's RCODE (0 NOERROR, 3 NXDOMAIN, ...); -1 without a response.</summary>
    public int DnsResponseCode => _hasBlock && _block.DnsResponseCode != byte.MaxValue ? _block.DnsResponseCode : -1;

    /// <summary>DNS: answer records in the first response.</summary>
    public int DnsAnswerCount => _hasBlock ? _block.DnsAnswers : 0;

    /// <summary>DNS: queries seen in the flow (within the packet budget).</summary>
    public int DnsQueryCount => _hasBlock ? _block.DnsQueries : 0;

    /// <summary>DNS: distinct query names among them (exact up to <see cref="AppMetadataLimits.DnsDistinctNames"/>).</summary>
    public int DnsDistinctNames => _hasBlock ? _block.DnsDistinctNames : 0;

    /// <summary>DNS: A/AAAA answer addresses kept (at most <see cref="AppMetadataLimits.DnsAddresses"/>).</summary>
    public int DnsAddressCount => _hasBlock ? _block.DnsAddressCount : 0;

    /// <summary>HTTP: the response status code; 0 without a response.</summary>
    public int HttpStatus => _hasBlock ? _block.HttpStatus : 0;

    /// <summary>TLS: the negotiated version from the ServerHello (0x0303 TLS 1.2, 0x0304 TLS 1.3); 0 without one.</summary>
    public int TlsVersion => _hasBlock ? _block.TlsVersion : 0;

    /// <summary>TLS: the highest version the ClientHello offered; 0 without one.</summary>
    public int TlsClientVersion => _hasBlock ? _block.TlsClientVersion : 0;

    /// <summary>TLS: the cipher suite the ServerHello chose; 0 without one.</summary>
    public int TlsCipher => _hasBlock ? _block.TlsCipher : 0;

    /// <summary>One text field; empty when absent.</summary>
    /// <param name="field">The field.</param>
    /// <returns>Its bytes.</returns>
    public ReadOnlySpan<byte> Get(AppField field) => _hasBlock ? _block.Get(field) : default;

    /// <summary>One DNS answer address.</summary>
    /// <param name="index">0 to <see cref="DnsAddressCount"/> - 1.</param>
    /// <param name="ipVersion">4 or 6.</param>
    /// <returns>The address.</returns>
    public IpAddress GetDnsAddress(int index, out byte ipVersion)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)DnsAddressCount, nameof(index));
        ipVersion = _block.DnsAddressVersions[index];
        return _block.DnsAddresses[index];
    }
}
