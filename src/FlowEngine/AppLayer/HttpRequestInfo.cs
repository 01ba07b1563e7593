// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>The head of an HTTP/1.x request, as ranges into the parsed payload (RFC 9112 §3).</summary>
public struct HttpRequestInfo
{
    /// <summary>The method token.</summary>
    public TextRange Method;

    /// <summary>The request target (URI).</summary>
    public TextRange Uri;

    /// <summary>The version ("HTTP/1.1"); empty for an HTTP/0.9 request line.</summary>
    public TextRange Version;

    /// <summary>The Host header's value.</summary>
    public TextRange Host;

    /// <summary>The User-Agent header's value.</summary>
    public TextRange UserAgent;

    /// <summary>True when the empty line that ends the head was seen.</summary>
    public bool HeadersComplete;
}
