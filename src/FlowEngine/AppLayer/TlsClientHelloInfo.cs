// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>What <see cref="TlsClientHello.TryParse"/> read from a ClientHello (ranges index the parsed message).</summary>
public struct TlsClientHelloInfo
{
    /// <summary>legacy_version (0x0303 for TLS 1.2 and 1.3).</summary>
    public ushort LegacyVersion;

    /// <summary>The highest non-GREASE version of supported_versions, else <see cref="LegacyVersion"/>.</summary>
    public ushort HighestVersion;

    /// <summary>The server name (SNI host_name).</summary>
    public TextRange ServerName;

    /// <summary>The first ALPN protocol.</summary>
    public TextRange FirstAlpn;

    /// <summary>Cipher suites offered (GREASE included).</summary>
    public int CipherSuiteCount;

    /// <summary>Extensions present (GREASE included).</summary>
    public int ExtensionCount;

    /// <summary>True when every field up to the end of the extensions was present (fingerprints are computed only then).</summary>
    public bool IsComplete;
}
