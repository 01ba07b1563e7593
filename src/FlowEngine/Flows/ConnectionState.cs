// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>Summary state of a connection, with the meanings of Zeek's conn_state.</summary>
public enum ConnectionState : byte
{
    /// <summary>Not TCP, or TCP midstream with nothing conclusive (Zeek OTH).</summary>
    Oth = 0,

    /// <summary>Connection attempt seen, no reply (S0).</summary>
    S0,

    /// <summary>Established, not terminated (S1).</summary>
    S1,

    /// <summary>Normal establishment and termination (SF).</summary>
    SF,

    /// <summary>Connection attempt rejected (REJ).</summary>
    Rej,

    /// <summary>Established, originator sent FIN, nothing from the responder after (S2).</summary>
    S2,

    /// <summary>Established, responder sent FIN, nothing from the originator after (S3).</summary>
    S3,

    /// <summary>Established, originator aborted with RST (RSTO).</summary>
    Rsto,

    /// <summary>Responder sent RST (RSTR).</summary>
    Rstr,

    /// <summary>Originator sent SYN then RST; no SYN-ACK from the responder (RSTOS0).</summary>
    Rstos0,

    /// <summary>Responder sent SYN-ACK then RST; no SYN from the originator (RSTRH).</summary>
    Rstrh,

    /// <summary>Originator sent SYN then FIN; no SYN-ACK (SH).</summary>
    SH,

    /// <summary>Responder sent SYN-ACK then FIN; no SYN from the originator (SHR).</summary>
    Shr,
}
