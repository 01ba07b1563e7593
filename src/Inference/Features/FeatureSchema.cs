// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Features;

/// <summary>
/// The model's input columns and its heads, version 1: every column's offset, the names (docs/features.md explains
/// each), the categorical heads' class counts and the Gaussian heads. A model trained on another version is refused.
/// </summary>
public static class FeatureSchema
{
    /// <summary>The schema version a model's metadata must carry.</summary>
    public const int Version = 1;

    /// <summary>Columns in a row.</summary>
    public const int Width = 98;

    /// <summary>Relation classes (the first categorical head and the relation columns).</summary>
    public const int RelationClasses = 7;

    /// <summary>The relation class of a multicast or broadcast peer.</summary>
    public const int RelationMulticast = 6;

    /// <summary>Application classes (<c>AppProtocol</c> values 0-4).</summary>
    public const int AppClasses = 5;

    /// <summary>Hashed buckets of the peer head.</summary>
    public const int PeerBuckets = 64;

    /// <summary>Resource-state columns.</summary>
    public const int ResourceColumns = 8;

    /// <summary>Columns 0-4: vn_kind.</summary>
    public const int VnKind = 0;

    /// <summary>Column 5: is_responder.</summary>
    public const int IsResponder = 5;

    /// <summary>Columns 6-12: relation.</summary>
    public const int Relation = 6;

    /// <summary>Columns 13-16: protocol.</summary>
    public const int Protocol = 13;

    /// <summary>Columns 17-36: port.</summary>
    public const int Port = 17;

    /// <summary>Columns 37-41: app.</summary>
    public const int App = 37;

    /// <summary>Column 42: missing_metadata.</summary>
    public const int MissingMetadata = 42;

    /// <summary>Column 43: log_packets_out.</summary>
    public const int LogPacketsOut = 43;

    /// <summary>Column 44: log_packets_in.</summary>
    public const int LogPacketsIn = 44;

    /// <summary>Column 45: log_bytes_out.</summary>
    public const int LogBytesOut = 45;

    /// <summary>Column 46: log_bytes_in.</summary>
    public const int LogBytesIn = 46;

    /// <summary>Column 47: log_duration.</summary>
    public const int LogDuration = 47;

    /// <summary>Column 48: log_size_mean_out.</summary>
    public const int LogSizeMeanOut = 48;

    /// <summary>Column 49: log_size_std_out.</summary>
    public const int LogSizeStdOut = 49;

    /// <summary>Column 50: log_size_mean_in.</summary>
    public const int LogSizeMeanIn = 50;

    /// <summary>Column 51: log_size_std_in.</summary>
    public const int LogSizeStdIn = 51;

    /// <summary>Column 52: log_iat_out.</summary>
    public const int LogIatOut = 52;

    /// <summary>Column 53: log_iat_in.</summary>
    public const int LogIatIn = 53;

    /// <summary>Columns 54-58: tcp_state.</summary>
    public const int TcpState = 54;

    /// <summary>Column 59: tcp_syn_only.</summary>
    public const int TcpSynOnly = 59;

    /// <summary>Column 60: tcp_reset.</summary>
    public const int TcpReset = 60;

    /// <summary>Column 61: tcp_fin.</summary>
    public const int TcpFin = 61;

    /// <summary>Column 62: dns_name_length.</summary>
    public const int DnsNameLength = 62;

    /// <summary>Column 63: dns_labels.</summary>
    public const int DnsLabels = 63;

    /// <summary>Column 64: dns_longest_label.</summary>
    public const int DnsLongestLabel = 64;

    /// <summary>Column 65: dns_entropy.</summary>
    public const int DnsEntropy = 65;

    /// <summary>Column 66: dns_digit_share.</summary>
    public const int DnsDigitShare = 66;

    /// <summary>Column 67: dns_hex_share.</summary>
    public const int DnsHexShare = 67;

    /// <summary>Column 68: dns_txt_or_null.</summary>
    public const int DnsTxtOrNull = 68;

    /// <summary>Column 69: dns_error.</summary>
    public const int DnsError = 69;

    /// <summary>Column 70: dns_log_answers.</summary>
    public const int DnsLogAnswers = 70;

    /// <summary>Column 71: dns_log_queries.</summary>
    public const int DnsLogQueries = 71;

    /// <summary>Column 72: dns_new_name.</summary>
    public const int DnsNewName = 72;

    /// <summary>Column 73: tls_has_sni.</summary>
    public const int TlsHasSni = 73;

    /// <summary>Column 74: tls_sni_length.</summary>
    public const int TlsSniLength = 74;

    /// <summary>Column 75: tls_new_sni.</summary>
    public const int TlsNewSni = 75;

    /// <summary>Column 76: tls_has_ja4.</summary>
    public const int TlsHasJa4 = 76;

    /// <summary>Column 77: http_error.</summary>
    public const int HttpError = 77;

    /// <summary>Column 78: new_peer.</summary>
    public const int NewPeer = 78;

    /// <summary>Column 79: new_service.</summary>
    public const int NewService = 79;

    /// <summary>Column 80: log_peer_age.</summary>
    public const int LogPeerAge = 80;

    /// <summary>Column 81: missing_profile.</summary>
    public const int MissingProfile = 81;

    /// <summary>Columns 82-89: resources.</summary>
    public const int Resources = 82;

    /// <summary>Column 90: missing_resources.</summary>
    public const int MissingResources = 90;

    /// <summary>Column 91: time_of_day_sin.</summary>
    public const int TimeOfDaySin = 91;

    /// <summary>Column 92: time_of_day_cos.</summary>
    public const int TimeOfDayCos = 92;

    /// <summary>Column 93: day_of_week_sin.</summary>
    public const int DayOfWeekSin = 93;

    /// <summary>Column 94: day_of_week_cos.</summary>
    public const int DayOfWeekCos = 94;

    /// <summary>Column 95: log_gap.</summary>
    public const int LogGap = 95;

    /// <summary>Column 96: first_flow_of_vm.</summary>
    public const int FirstFlowOfVm = 96;

    /// <summary>Column 97: missing_inventory.</summary>
    public const int MissingInventory = 97;

    private static readonly string[] s_names =
    [
        "vn_none",
        "vn_vlan",
        "vn_vxlan",
        "vn_geneve",
        "vn_gre",
        "is_responder",
        "peer_vm_known",
        "peer_vm_new",
        "peer_outside_known",
        "peer_outside_new",
        "peer_unknown_known",
        "peer_unknown_new",
        "peer_multicast",
        "proto_tcp",
        "proto_udp",
        "proto_icmp",
        "proto_other",
        "port_system_other",
        "port_registered_other",
        "port_dynamic",
        "port_no_port",
        "port_dns",
        "port_http",
        "port_https",
        "port_ssh",
        "port_mail",
        "port_ntp",
        "port_smb_netbios",
        "port_rdp",
        "port_winrm",
        "port_database",
        "port_directory",
        "port_dhcp",
        "port_file_transfer",
        "port_remote_shell",
        "port_vpn_tunnel",
        "port_metrics_management",
        "app_unknown",
        "app_dns",
        "app_http",
        "app_tls",
        "app_ssh",
        "missing_metadata",
        "log_packets_out",
        "log_packets_in",
        "log_bytes_out",
        "log_bytes_in",
        "log_duration",
        "log_size_mean_out",
        "log_size_std_out",
        "log_size_mean_in",
        "log_size_std_in",
        "log_iat_out",
        "log_iat_in",
        "tcp_state_established",
        "tcp_state_unanswered",
        "tcp_state_rejected",
        "tcp_state_reset",
        "tcp_state_other",
        "tcp_syn_only",
        "tcp_reset",
        "tcp_fin",
        "dns_name_length",
        "dns_labels",
        "dns_longest_label",
        "dns_entropy",
        "dns_digit_share",
        "dns_hex_share",
        "dns_txt_or_null",
        "dns_error",
        "dns_log_answers",
        "dns_log_queries",
        "dns_new_name",
        "tls_has_sni",
        "tls_sni_length",
        "tls_new_sni",
        "tls_has_ja4",
        "http_error",
        "new_peer",
        "new_service",
        "log_peer_age",
        "missing_profile",
        "cpu_vm",
        "log_memory_vm",
        "log_disk_read_vm",
        "log_disk_write_vm",
        "cpu_peer",
        "log_memory_peer",
        "log_disk_read_peer",
        "log_disk_write_peer",
        "missing_resources",
        "time_of_day_sin",
        "time_of_day_cos",
        "day_of_week_sin",
        "day_of_week_cos",
        "log_gap",
        "first_flow_of_vm",
        "missing_inventory",
    ];

    /// <summary>Column names, in order.</summary>
    public static IReadOnlyList<string> ColumnNames => s_names;

    /// <summary>The categorical heads: peer relation, peer bucket, responder port class by direction, application.</summary>
    public static IReadOnlyList<(string Name, int Classes)> CategoricalHeads { get; } =
    [
        ("relation", RelationClasses),
        ("peer", PeerBuckets),
        ("port", 2 * PortClass.Count),
        ("app", AppClasses),
    ];

    /// <summary>The Gaussian heads: log(1 + bytes of the flow, both directions), log(1 + seconds since the VM's previous flow).</summary>
    public static IReadOnlyList<string> GaussianHeads { get; } = ["log_bytes", "log_gap"];
}
