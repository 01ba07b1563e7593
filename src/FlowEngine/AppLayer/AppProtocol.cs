// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>The application a flow carried, recognised by its content (not by its port alone).</summary>
public enum AppProtocol : byte
{
    /// <summary>Nothing recognised in the first packets (or no payload).</summary>
    Unknown = 0,

    /// <summary>DNS over UDP or TCP.</summary>
    Dns = 1,

    /// <summary>HTTP/1.x.</summary>
    Http = 2,

    /// <summary>TLS (a ClientHello or ServerHello was seen).</summary>
    Tls = 3,

    /// <summary>SSH (an identification banner was seen).</summary>
    Ssh = 4,
}
