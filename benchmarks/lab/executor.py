#!/usr/bin/env python3
"""Runs one phase of timeline.json in real time: every event is `ip netns exec PREFIX-NS timeout -k 1 T argv...`,
started at its window's real start + t. A window ends when all its processes have exited (each is bounded by its
timeout; stragglers are killed by pid), so windows never overlap. Writes, in --out:
  PHASE.windows.csv  phase,window,kind,real_start,real_end,sim_start,length   (epoch seconds, 9 decimals)
  PHASE.labels.csv   start_ts,end_ts,type,attacker_vm,tenant,vni,attacker_ip,target,notes  (real epoch seconds)
  PHASE.events.csv   every event: window,ns,planned,start,end,rc,command (for checking the run)
start_ts is taken just before the attack process is started, end_ts just after it is seen to exit (polled every
20 ms), so all packets the attacker sends lie inside [start_ts, end_ts]."""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

LABEL_COLS = ["start_ts", "end_ts", "type", "attacker_vm", "tenant", "vni", "attacker_ip", "target", "notes"]


def subst(argv, env):
    return [a.replace("{py}", env["py"]).replace("{here}", env["here"]).replace("{content}", env["content"])
            for a in argv]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeline", required=True)
    ap.add_argument("--phase", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--here", required=True)
    ap.add_argument("--content", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cgroups", help="vmcgroup.py state: commands in a VM's namespace run in the VM's cgroups")
    a = ap.parse_args()
    vm_procs = {}
    if a.cgroups:
        for vm, dirs in json.load(open(a.cgroups))["vms"].items():
            vm_procs[vm] = " ".join(os.path.join(d, "cgroup.procs") for d in dirs.values())
    env = {"py": sys.executable, "here": a.here, "content": a.content}
    phase = json.load(open(a.timeline))["phases"][a.phase]
    wf = open(os.path.join(a.out, f"{a.phase}.windows.csv"), "w", newline="")
    lf = open(os.path.join(a.out, f"{a.phase}.labels.csv"), "w", newline="")
    ef = open(os.path.join(a.out, f"{a.phase}.events.csv"), "w", newline="")
    ww, lw, ew = (csv.writer(x, lineterminator="\n") for x in (wf, lf, ef))
    ww.writerow(["phase", "window", "kind", "real_start", "real_end", "sim_start", "length"])
    lw.writerow(LABEL_COLS)
    ew.writerow(["window", "ns", "planned", "start", "end", "rc", "command"])
    errlog = open(os.path.join(a.out, f"{a.phase}.stderr.log"), "w")
    failures = 0
    n_events = 0
    for w in phase["windows"]:
        w_start = time.time()
        running = []  # (proc, event, start)
        pending = list(w["events"])
        deadline = w_start + w["length"] + 6
        while pending or running:
            now = time.time()
            while pending and w_start + pending[0]["t"] <= now:
                e = pending.pop(0)
                cmd = ["ip", "netns", "exec", f"{a.prefix}-{e['ns']}", "timeout", "-k", "1", str(e["timeout"])]
                cmd += subst(e["argv"], env)
                if vm_procs.get(e["ns"]):
                    # join the VM's cgroups from outside the namespace (ip netns exec hides /sys/fs/cgroup), then exec
                    cmd = ["sh", "-c", 'for f in $1; do echo $$ > "$f"; done; shift; exec "$@"', "sh",
                           vm_procs[e["ns"]]] + cmd
                st = time.time()
                p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errlog)
                running.append((p, e, st))
                n_events += 1
            still = []
            for p, e, st in running:
                rc = p.poll()
                if rc is None:
                    if time.time() > deadline:
                        p.kill()  # our own child, by pid
                        p.wait()
                        rc = -9
                    else:
                        still.append((p, e, st))
                        continue
                en = time.time()
                # timeout(1) exits 124 when it had to stop a command; curl/dig/nmap failures are worth counting too
                if rc != 0:
                    failures += 1
                ew.writerow([w["id"], e["ns"], e["t"], f"{st:.6f}", f"{en:.6f}", rc, " ".join(e["argv"])[:160]])
                if "label" in e:
                    lb = e["label"]
                    lw.writerow([f"{st:.9f}", f"{en:.9f}", lb["type"], lb["attacker_vm"], lb["tenant"], lb["vni"],
                                 lb["attacker_ip"], lb["target"], lb["notes"]])
                    lf.flush()
            running = still
            nxt = w_start + pending[0]["t"] if pending else time.time() + 0.02
            time.sleep(max(0.0, min(0.02, nxt - time.time())))
        # let the window's last packets (FIN/ACK, replies) drain before the next window starts
        end_planned = w_start + w["length"]
        time.sleep(max(0.3, end_planned - time.time()))
        w_end = time.time()
        ww.writerow([a.phase, w["id"], w.get("attack", w["kind"]), f"{w_start:.9f}", f"{w_end:.9f}",
                     w["sim_start"], w["length"]])
        wf.flush()
    for x in (wf, lf, ef, errlog):
        x.close()
    print(f"executor: phase {a.phase}: {len(phase['windows'])} windows, {n_events} events, "
          f"{failures} non-zero exits", file=sys.stderr)


if __name__ == "__main__":
    main()
