// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.AppLayer;

/// <summary>The head of an HTTP/1.x response, as ranges into the parsed payload (RFC 9112 §4).</summary>
public struct HttpResponseInfo
{
    /// <summary>The version ("HTTP/1.1").</summary>
    public TextRange Version;

    /// <summary>The status code (100-999).</summary>
    public int StatusCode;

    /// <summary>The reason phrase.</summary>
    public TextRange Reason;

    /// <summary>The Content-Type header's value.</summary>
    public TextRange ContentType;

    /// <summary>The Content-Length header's value; -1 when absent or not a number.</summary>
    public long ContentLength;

    /// <summary>True when the empty line that ends the head was seen.</summary>
    public bool HeadersComplete;
}
