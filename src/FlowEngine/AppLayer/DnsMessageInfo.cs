// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Packets;

namespace FlowEngine.AppLayer;

/// <summary>The first A/AAAA answer addresses of a DNS response.</summary>
[InlineArray(AppMetadataLimits.DnsAddresses)]
public struct DnsAnswerAddresses
{
    private IpAddress _element;
}

/// <summary>The IP versions (4 or 6) of <see cref="DnsAnswerAddresses"/>.</summary>
[InlineArray(AppMetadataLimits.DnsAddresses)]
public struct DnsAnswerVersions
{
    private byte _element;
}

/// <summary>What <see cref="DnsParser"/> read from one DNS message (RFC 1035 §4.1).</summary>
public struct DnsMessageInfo
{
    /// <summary>The message ID.</summary>
    public ushort TransactionId;

    /// <summary>True for a response (QR set).</summary>
    public bool IsResponse;

    /// <summary>OPCODE (0 standard query).</summary>
    public byte Opcode;

    /// <summary>RCODE (4 bits: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...).</summary>
    public byte ResponseCode;

    /// <summary>AA: an authoritative answer.</summary>
    public bool Authoritative;

    /// <summary>TC: the message was truncated by its sender.</summary>
    public bool TruncatedBySender;

    /// <summary>RD: recursion desired.</summary>
    public bool RecursionDesired;

    /// <summary>RA: recursion available.</summary>
    public bool RecursionAvailable;

    /// <summary>QDCOUNT.</summary>
    public ushort QuestionCount;

    /// <summary>ANCOUNT.</summary>
    public ushort AnswerCount;

    /// <summary>NSCOUNT.</summary>
    public ushort AuthorityCount;

    /// <summary>ARCOUNT.</summary>
    public ushort AdditionalCount;

    /// <summary>QTYPE of the first question (1 A, 28 AAAA, 16 TXT, 10 NULL, ...).</summary>
    public ushort QueryType;

    /// <summary>QCLASS of the first question.</summary>
    public ushort QueryClass;

    /// <summary>Bytes of the first question's name written to the caller's buffer.</summary>
    public int QueryNameLength;

    /// <summary>True when the name did not fit the caller's buffer and was cut.</summary>
    public bool QueryNameCut;

    /// <summary>Labels of the first question's name.</summary>
    public int LabelCount;

    /// <summary>Bytes of its longest label.</summary>
    public int LongestLabel;

    /// <summary>Answer records read (at most <see cref="AnswerCount"/>; fewer when the message ends early).</summary>
    public int AnswersParsed;

    /// <summary>Type of the first answer record; 0 without one.</summary>
    public ushort FirstAnswerType;

    /// <summary>TTL of the first answer record.</summary>
    public uint FirstAnswerTtl;

    /// <summary>RDATA bytes of the answers read.</summary>
    public int AnswerDataBytes;

    /// <summary>A and AAAA answers kept in <see cref="AnswerAddresses"/>.</summary>
    public int AnswerAddressCount;

    /// <summary>The first A/AAAA answer addresses.</summary>
    public DnsAnswerAddresses AnswerAddresses;

    /// <summary>Their IP versions.</summary>
    public DnsAnswerVersions AnswerAddressVersions;

    /// <summary>True when the message ended (or a record was malformed) before every counted record was read.</summary>
    public bool IsTruncated;
}
