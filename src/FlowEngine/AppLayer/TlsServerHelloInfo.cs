// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>What <see cref="TlsServerHello.TryParse"/> read from a ServerHello.</summary>
public struct TlsServerHelloInfo
{
    /// <summary>legacy_version.</summary>
    public ushort LegacyVersion;

    /// <summary>The negotiated version: supported_versions' selected_version (TLS 1.3), else <see cref="LegacyVersion"/>.</summary>
    public ushort Version;

    /// <summary>The cipher suite chosen.</summary>
    public ushort CipherSuite;

    /// <summary>Extensions present.</summary>
    public int ExtensionCount;

    /// <summary>True when the whole hello, extensions included, was present.</summary>
    public bool IsComplete;
}
