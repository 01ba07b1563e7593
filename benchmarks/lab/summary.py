#!/usr/bin/env python3
"""Prints what a lab run produced: per capture file its size, packets, time span and VNIs; per phase its windows and
labels. Usage: summary.py OUT_DIR"""
import collections
import csv
import glob
import os
import subprocess
import sys
import time


def tshark_fields(path, flt, field):
    r = subprocess.run(["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-e", field],
                       capture_output=True, text=True, timeout=300)
    return [x for line in r.stdout.split() for x in line.split(",") if x]


def span(path):
    r = subprocess.run(["capinfos", "-T", "-r", "-c", "-a", "-e", "-S", path], capture_output=True, text=True,
                       timeout=120)
    f = r.stdout.strip().split("\t")
    return int(f[1]), float(f[2] or 0), float(f[3] or 0)


def main():
    out = sys.argv[1]
    for path in sorted(glob.glob(os.path.join(out, "*.pcapng"))):
        n, first, last = span(path)
        size = os.path.getsize(path)
        line = (f"{os.path.basename(path)}: {size / 1e6:.2f} MB, {n} packets, "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(first))} .. "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(last))} UTC")
        if "underlay" in path or "geneve" in path:
            vx = collections.Counter(tshark_fields(path, "vxlan", "vxlan.vni"))
            gn = collections.Counter(tshark_fields(path, "geneve", "geneve.vni"))
            line += f", VXLAN VNIs {dict(sorted(vx.items()))}"
            if gn:
                line += f", Geneve VNIs {dict(sorted(gn.items()))}"
        print(line)
    for path in sorted(glob.glob(os.path.join(out, "*.windows.csv"))):
        rows = list(csv.DictReader(open(path)))
        kinds = collections.Counter(r["kind"] for r in rows)
        print(f"{os.path.basename(path)}: {len(rows)} windows {dict(kinds)}")
    for path in sorted(glob.glob(os.path.join(out, "*.labels.csv"))):
        rows = list(csv.DictReader(open(path)))
        print(f"{os.path.basename(path)}: {len(rows)} labels")
        for r in rows:
            d = float(r["end_ts"]) - float(r["start_ts"])
            print(f"  {r['type']:<10} {r['attacker_vm']:<14} vni {r['vni']} {r['attacker_ip']:<10} "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(float(r['start_ts'])))} {d:6.2f}s -> {r['target'][:40]}")
    for path in sorted(glob.glob(os.path.join(out, "*.events.csv"))):
        rows = list(csv.DictReader(open(path)))
        bad = collections.Counter(r["command"].split()[0] for r in rows if r["rc"] != "0")
        print(f"{os.path.basename(path)}: {len(rows)} events, non-zero exits by command: {dict(bad)}")


if __name__ == "__main__":
    main()
