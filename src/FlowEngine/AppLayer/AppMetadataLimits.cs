// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>Bounds of the application metadata kept per flow.</summary>
public static class AppMetadataLimits
{
    /// <summary>Bytes of text a flow's metadata holds in all (its fields share them; a field that does not fit is cut).</summary>
    public const int TextBytes = 1024;

    /// <summary>Most bytes kept of a DNS query name (a name has at most 255 bytes on the wire; escapes may lengthen it).</summary>
    public const int DnsQueryBytes = 255;

    /// <summary>Most bytes kept of an HTTP request target.</summary>
    public const int UriBytes = 256;

    /// <summary>Most bytes kept of a header value (Host, User-Agent, Content-Type) or an SSH banner.</summary>
    public const int HeaderBytes = 192;

    /// <summary>Most bytes kept of the SNI.</summary>
    public const int SniBytes = 255;

    /// <summary>Most DNS answer addresses kept per flow.</summary>
    public const int DnsAddresses = 4;

    /// <summary>Distinct DNS names a flow's metadata can tell apart (beyond this the distinct count stops growing).</summary>
    public const int DnsDistinctNames = 16;
}
