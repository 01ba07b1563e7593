#!/usr/bin/env python3
"""The lab's fixed topology: tenants, VMs, hypervisors, gateway and external hosts.

Everything else (run.sh, schedule.py, the inventory) reads the topology from here, so there is one place to change it.
All addresses are documentation ranges (RFC 5737) or private ranges that exist only inside the lab's namespaces:
  underlay 192.0.2.0/24, tenants' inner 10.0.0.0/24 (the SAME range in every tenant), gateway public (NAT)
  addresses 198.51.100.0/24, external hosts 203.0.113.0/24. No namespace has a default route.

`python3 labdef.py shell` prints the topology as whitespace-separated lines for run.sh;
`python3 labdef.py inventory FILE` writes the VM inventory CSV; `python3 labdef.py externals FILE` the external hosts.
"""
import csv
import sys

UNDERLAY = {"gw": "192.0.2.1", "hv1": "192.0.2.11", "hv2": "192.0.2.12"}
INNER_PREFIX = "10.0.0"
INNER_GW = "10.0.0.1"
VM_MTU = 1450

# tenant name -> (VNI, public NAT address at the gateway)
TENANTS = {
    "acme": (5001, "198.51.100.11"),
    "globex": (5002, "198.51.100.12"),
}

# (short name, host part of the inner address, role, hypervisor per tenant)
VM_TEMPLATE = [
    ("web1", 11, "web", {"acme": "hv1", "globex": "hv2"}),
    ("web2", 12, "web", {"acme": "hv2", "globex": "hv1"}),
    ("api1", 21, "api", {"acme": "hv1", "globex": "hv2"}),
    ("db1", 31, "db", {"acme": "hv2", "globex": "hv1"}),
    ("ws1", 41, "client", {"acme": "hv1", "globex": "hv1"}),
    ("bak1", 51, "backup", {"acme": "hv2", "globex": "hv2"}),
]

GW_IP = "203.0.113.1"
# name -> (address, role, DNS names served by the lab's DNS server)
EXTERNALS = {
    "xdns": ("203.0.113.53", "dns", ["ns1.lab.test"]),
    "xweb": ("203.0.113.80", "web", ["www.example.test", "cdn.example.test", "api.partner.test", "deb.mirror.test"]),
    "xbak": ("203.0.113.90", "backup-target", ["vault.backup.test"]),
    "xc2": ("203.0.113.66", "c2", ["telemetry.cdn-metrics.test"]),
    "xexf": ("203.0.113.77", "exfil-target", ["upload.filedrop.test"]),
    "xcli": ("203.0.113.200", "internet-client", ["client.example.test"]),
}
# Domain whose every subdomain resolves (used by the DNS tunnel); answered by the lab DNS server only.
TUNNEL_DOMAIN = "t.cloudsync-api.test"
TUNNEL_ADDR = "203.0.113.66"
# Names that resolve but are never contacted (so DNS queries have a mix of answers).
EXTRA_NAMES = {"mail.example.test": "203.0.113.25", "ntp.example.test": "203.0.113.123"}


def mac_for(vni, host):
    return "02:%02x:%02x:%02x:00:%02x" % ((vni >> 16) & 255, (vni >> 8) & 255, vni & 255, host)


def vms():
    """Yield dicts: name, tenant, vni, ip, mac, role, hv."""
    for tenant, (vni, _) in TENANTS.items():
        for short, host, role, hv in VM_TEMPLATE:
            yield {
                "name": f"{tenant}-{short}", "short": short, "tenant": tenant, "vni": vni,
                "ip": f"{INNER_PREFIX}.{host}", "mac": mac_for(vni, host), "role": role, "hv": hv[tenant],
            }


def gateways():
    for tenant, (vni, public) in TENANTS.items():
        yield {"name": f"gw-{tenant}", "tenant": tenant, "vni": vni, "ip": INNER_GW, "mac": mac_for(vni, 1),
               "role": "gateway", "hv": "gw", "public": public}


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "shell"
    if cmd == "shell":
        for name, ip in UNDERLAY.items():
            print("underlay", name, ip)
        for g in gateways():
            print("tenant", g["tenant"], g["vni"], g["public"], g["mac"])
        for v in vms():
            print("vm", v["name"], v["tenant"], v["vni"], v["ip"], v["mac"], v["role"], v["hv"])
        for name, (ip, role, names) in EXTERNALS.items():
            print("ext", name, ip, role)
    elif cmd == "inventory":
        with open(sys.argv[2], "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["name", "tenant", "vni", "inner_ip", "inner_mac", "role", "hypervisor"])
            for v in vms():
                w.writerow([v["name"], v["tenant"], v["vni"], v["ip"], v["mac"], v["role"], v["hv"]])
            for g in gateways():
                w.writerow([g["name"], g["tenant"], g["vni"], g["ip"], g["mac"], g["role"], g["hv"]])
    elif cmd == "externals":
        with open(sys.argv[2], "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["name", "ip", "role", "dns_names"])
            for name, (ip, role, names) in EXTERNALS.items():
                w.writerow([name, ip, role, " ".join(names)])
            for tenant, (vni, public) in TENANTS.items():
                w.writerow([f"gw-{tenant}-public", public, "gateway-nat", ""])
    elif cmd == "dnsmasq-args":
        # dnsmasq answers only from these records; it has no upstream (no-resolv), so nothing is forwarded.
        args = []
        for name, (ip, role, names) in EXTERNALS.items():
            for n in names:
                args.append(f"--host-record={n},{ip}")
        for n, ip in EXTRA_NAMES.items():
            args.append(f"--host-record={n},{ip}")
        args.append(f"--address=/{TUNNEL_DOMAIN}/{TUNNEL_ADDR}")
        args.append("--local=/test/")
        print("\n".join(args))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
