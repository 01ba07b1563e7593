// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Inference.Features;

/// <summary>
/// The service class of a flow's responder port: the IANA service-name registry's well-known services grouped by what
/// they do, then the three port ranges of RFC 6335 for everything else. A fixed table: the same on every network.
/// </summary>
public static class PortClass
{
    /// <summary>Classes, 0 to <see cref="Count"/> - 1.</summary>
    public const int Count = 20;

    private static readonly string[] s_names =
    [
        "system-other", "registered-other", "dynamic", "no-port", "dns", "http", "https", "ssh", "mail", "ntp", "smb-netbios",
        "rdp", "winrm", "database", "directory", "dhcp", "file-transfer", "remote-shell", "vpn-tunnel", "metrics-management",
    ];

    /// <summary>The name of class <paramref name="portClass"/>.</summary>
    /// <param name="portClass">0 to <see cref="Count"/> - 1.</param>
    /// <returns>The name.</returns>
    public static string Name(int portClass) => s_names[portClass];

    /// <summary>The class of a responder port.</summary>
    /// <param name="protocol">IP protocol (ports count only for TCP, UDP, SCTP).</param>
    /// <param name="port">The responder's port.</param>
    /// <returns>The class.</returns>
    public static int Of(byte protocol, ushort port)
    {
        if (protocol is not (6 or 17 or 132))
        {
            return 3;
        }

        return port switch
        {
            53 or 853 or 5353 or 5355 => 4,
            80 or 8080 or 8000 or 8008 or 8081 or 3128 => 5,
            443 or 8443 or 4443 => 6,
            22 or 2222 => 7,
            25 or 465 or 587 or 110 or 995 or 143 or 993 => 8,
            123 => 9,
            137 or 138 or 139 or 445 => 10,
            3389 => 11,
            5985 or 5986 => 12,
            1433 or 1521 or 3306 or 5432 or 6379 or 9042 or 27017 or 11211 or 9200 or 5984 => 13,
            88 or 389 or 464 or 636 or 3268 or 3269 => 14,
            67 or 68 or 546 or 547 => 15,
            20 or 21 or 69 or 873 or 2049 or 111 => 16,
            23 or 512 or 513 or 514 or 135 => 17,
            500 or 4500 or 1194 or 1701 or 1723 or 51820 or 4789 or 6081 => 18,
            161 or 162 or 9100 or 9090 or 2379 or 2380 or 6443 or 10250 => 19,
            < 1024 => 0,
            < 49152 => 1,
            _ => 2,
        };
    }
}
