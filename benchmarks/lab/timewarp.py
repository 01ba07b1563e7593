#!/usr/bin/env python3
"""Spreads a lab capture over simulated days: every packet whose real timestamp falls in window k (from
PHASE.windows.csv, [real_start_k, real_start_k+1)) is shifted by (sim_start_k - real_start_k). Spacing inside a
window is kept to the nanosecond; the windows' simulated starts follow the diurnal schedule of schedule.py.
Packet order never changes: a window's simulated start is pushed later if needed so that it is never closer to the
previous one than in real time. Labels (real epoch seconds) are shifted with the window that holds them.

  timewarp.py --windows eval.windows.csv --labels eval.labels.csv --in eval-underlay.pcapng [more.pcapng] \
              [--suffix -days]
writes eval-underlay-days.pcapng (next to each input), eval-days.labels.csv and eval-days.windows.csv."""
import argparse
import bisect
import csv
import os
import sys
from decimal import Decimal

import pcapng

NS = 10 ** 9


def to_ns(s):
    return int(Decimal(s) * NS)


def load_windows(path):
    rows = list(csv.DictReader(open(path)))
    if not rows:
        raise SystemExit(f"timewarp: {path}: no windows")
    starts, offsets, sims = [], [], []
    prev_real = prev_sim = None
    for r in rows:
        real = to_ns(r["real_start"])
        sim = int(r["sim_start"]) * NS
        if prev_real is not None and sim < prev_sim + (real - prev_real) + NS:
            sim = prev_sim + (real - prev_real) + NS
        starts.append(real)
        offsets.append(sim - real)
        sims.append(sim)
        prev_real, prev_sim = real, sim
    return rows, starts, offsets, sims


def window_of(starts, t_ns):
    return max(bisect.bisect_right(starts, t_ns) - 1, 0)


def offset_for(starts, offsets, t_ns):
    return offsets[window_of(starts, t_ns)]


def warp_file(src, dst, starts, offsets):
    n = 0
    prev = None
    k_prev = 0
    with open(dst + ".tmp", "wb") as out:
        for blk in pcapng.read_blocks(src):
            if blk[0] == "raw":
                out.write(blk[1])
                continue
            _, endian, iface, if_id, ts, data, orig, opts = blk
            t_ns = (ts + iface.tsoffset * iface.units) * NS // iface.units
            # a capture can hold packets a few microseconds out of order (they reach the capture from several CPUs);
            # the window index never goes back along the file, so such a packet stays next to its neighbours
            k_prev = max(k_prev, window_of(starts, t_ns))
            new_ns = t_ns + offsets[k_prev]
            new_ts = new_ns * iface.units // NS - iface.tsoffset * iface.units
            if prev is not None and new_ns < prev - NS:
                print(f"timewarp: warning: {src}: packet {n + 1} moves before its predecessor", file=sys.stderr)
            prev = new_ns
            out.write(pcapng.epb(endian, if_id, new_ts, data, orig, opts))
            n += 1
    os.replace(dst + ".tmp", dst)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--in", dest="inputs", nargs="+", required=True)
    ap.add_argument("--suffix", default="-days")
    a = ap.parse_args()
    rows, starts, offsets, sims = load_windows(a.windows)
    base = a.windows[: -len(".windows.csv")] if a.windows.endswith(".windows.csv") else a.windows
    with open(f"{base}{a.suffix}.windows.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["phase", "window", "kind", "real_start", "sim_start", "offset_s", "length"])
        for r, s, off in zip(rows, sims, offsets):
            w.writerow([r["phase"], r["window"], r["kind"], r["real_start"], f"{Decimal(s) / NS:.9f}",
                        f"{Decimal(off) / NS:.9f}", r["length"]])
    if a.labels and os.path.exists(a.labels):
        lrows = list(csv.DictReader(open(a.labels)))
        with open(f"{base}{a.suffix}.labels.csv", "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            cols = ["start_ts", "end_ts", "type", "attacker_vm", "tenant", "vni", "attacker_ip", "target", "notes"]
            w.writerow(cols)
            for r in lrows:
                st, en = to_ns(r["start_ts"]), to_ns(r["end_ts"])
                off = offset_for(starts, offsets, st)
                r["start_ts"] = f"{Decimal(st + off) / NS:.9f}"
                r["end_ts"] = f"{Decimal(en + off) / NS:.9f}"
                w.writerow([r[c] for c in cols])
    for src in a.inputs:
        stem = src[:-len(".pcapng")] if src.endswith(".pcapng") else src
        dst = f"{stem}{a.suffix}.pcapng"
        n = warp_file(src, dst, starts, offsets)
        print(f"timewarp: {src} -> {dst}: {n} packets, {len(starts)} windows", file=sys.stderr)


if __name__ == "__main__":
    main()
