// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>The text fields of a flow's application metadata, each kept once (the first value seen), bounded in length.</summary>
public enum AppField : byte
{
    /// <summary>The first DNS query name (dotted, as Zeek's dns.log writes it).</summary>
    DnsQuery = 0,

    /// <summary>The HTTP request method.</summary>
    HttpMethod,

    /// <summary>The HTTP Host header.</summary>
    HttpHost,

    /// <summary>The HTTP request target (URI), at most <see cref="AppMetadataLimits.UriBytes"/> bytes.</summary>
    HttpUri,

    /// <summary>The HTTP User-Agent header.</summary>
    HttpUserAgent,

    /// <summary>The HTTP response's Content-Type header.</summary>
    HttpContentType,

    /// <summary>The TLS server name (SNI) of the ClientHello.</summary>
    TlsSni,

    /// <summary>The first ALPN protocol offered in the ClientHello.</summary>
    TlsAlpn,

    /// <summary>The JA3 fingerprint of the ClientHello (32 hex digits).</summary>
    Ja3,

    /// <summary>The JA3S fingerprint of the ServerHello (32 hex digits).</summary>
    Ja3s,

    /// <summary>The JA4 fingerprint of the ClientHello.</summary>
    Ja4,

    /// <summary>The SSH client's identification line.</summary>
    SshClient,

    /// <summary>The SSH server's identification line.</summary>
    SshServer,
}
