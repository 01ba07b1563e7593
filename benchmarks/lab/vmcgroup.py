#!/usr/bin/env python3
"""A cgroup of its own for each lab VM, and a recorder of their resource state as a FlowEngine VM state timeline
(docs/vm-state.md: time_ns,vm,cpu_ns,memory_bytes,disk_read_bytes,disk_write_bytes; an empty field is unknown).

  vmcgroup.py create --prefix P --inventory inventory.csv --state cgroups.json [--disk-of DIR]
  vmcgroup.py procs  --state cgroups.json VM      # the VM's cgroup.procs files, space separated
  vmcgroup.py record --state cgroups.json --out PHASE.vm-state.csv [--interval 1]   # until SIGTERM or SIGINT
  vmcgroup.py remove --state cgroups.json

Each VM gets PREFIX.lab/VM below this process's own cgroup in every hierarchy that is mounted: cgroup v2 (cpu.stat
usage_usec; memory.current and io.stat where those controllers are enabled) and the v1 cpuacct, memory and blkio
hierarchies of a hybrid host (cpuacct.usage, memory.usage_in_bytes, blkio.throttle.io_service_bytes_recursive).
CPU comes from v1 cpuacct when mounted, else v2; memory from v1 memory, else v2 memory.current; disk from v2 io.stat,
else v1 blkio, for which a 1 TiB/s (no-op) write rule on the disk under --disk-of turns the kernel's accounting on.
Processes are moved in from outside their network namespace (ip netns exec remounts /sys, hiding the cgroup file
systems): run.sh and executor.py start `sh -c 'echo $$ > procs...; exec ip netns exec ...'`."""
import argparse
import csv
import json
import os
import signal
import sys
import time


def mounts():
    v2, v1 = None, {}
    for line in open("/proc/self/mounts"):
        f = line.split()
        if len(f) < 4:
            continue
        if f[2] == "cgroup2" and v2 is None:
            v2 = f[1]
        elif f[2] == "cgroup":
            for o in f[3].split(","):
                if o in ("cpuacct", "memory", "blkio"):
                    v1.setdefault(o, f[1])
    return v2, v1


def self_path(controller):
    for line in open("/proc/self/cgroup"):
        hid, ctrls, path = line.rstrip("\n").split(":", 2)
        if (controller is None and hid == "0" and ctrls == "") or (controller and controller in ctrls.split(",")):
            return "" if path == "/" else path
    return None


def disk_of(directory):
    """MAJ:MIN of the whole disk under directory, or None (tmpfs, overlay)."""
    best, dev = "", None
    full = os.path.realpath(directory)
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        if full == f[4] or full.startswith(f[4].rstrip("/") + "/"):
            if len(f[4]) >= len(best):
                best, dev = f[4], f[2]
    sys_dir = f"/sys/dev/block/{dev}"
    if dev is None or not os.path.isdir(sys_dir):
        return None
    if os.path.exists(os.path.join(sys_dir, "partition")):
        return open(os.path.join(os.path.dirname(os.path.realpath(sys_dir)), "dev")).read().strip()
    return dev


def create(a):
    v2, v1 = mounts()
    names = [r["name"] for r in csv.DictReader(open(a.inventory)) if r["role"] != "gateway"]
    disk = disk_of(a.disk_of) if a.disk_of else None
    state = {"vms": {}, "created": [], "disk": disk}
    roots = []
    if v2 is not None and self_path(None) is not None:
        roots.append(("v2", v2 + self_path(None)))
    for c in ("cpuacct", "memory", "blkio"):
        if c in v1 and self_path(c) is not None:
            roots.append((c, v1[c] + self_path(c)))
    for kind, base in roots:
        top = os.path.join(base, f"{a.prefix}.lab")
        os.mkdir(top)
        state["created"].append(top)
    for name in names:
        dirs = {}
        for kind, base in roots:
            d = os.path.join(base, f"{a.prefix}.lab", name)
            os.mkdir(d)
            state["created"].append(d)
            dirs[kind] = d
        if "blkio" in dirs and disk:
            with open(os.path.join(dirs["blkio"], "blkio.throttle.write_bps_device"), "w") as f:
                f.write(f"{disk} {1 << 40}")
        state["vms"][name] = dirs
    json.dump(state, open(a.state, "w"), indent=1)


def procs(a):
    state = json.load(open(a.state))
    dirs = state["vms"].get(a.vm, {})
    print(" ".join(os.path.join(d, "cgroup.procs") for d in dirs.values()))


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode()
    except OSError:
        return None


def sample(dirs):
    """(cpu_ns, memory_bytes, read_bytes, write_bytes), None where unknown."""
    cpu = mem = rd = wr = None
    if "cpuacct" in dirs:
        t = read(os.path.join(dirs["cpuacct"], "cpuacct.usage"))
        cpu = int(t) if t and t.strip().isdigit() else None
    if cpu is None and "v2" in dirs:
        for line in (read(os.path.join(dirs["v2"], "cpu.stat")) or "").splitlines():
            k, _, v = line.partition(" ")
            if k == "usage_usec" and v.isdigit():
                cpu = int(v) * 1000
    for key, file in (("memory", "memory.usage_in_bytes"), ("v2", "memory.current")):
        if mem is None and key in dirs:
            t = read(os.path.join(dirs[key], file))
            mem = int(t) if t and t.strip().isdigit() else None
    io = read(os.path.join(dirs["v2"], "io.stat")) if "v2" in dirs else None
    if io is not None:
        rd = wr = 0
        for line in io.splitlines():
            for field in line.split()[1:]:
                k, _, v = field.partition("=")
                if k == "rbytes":
                    rd += int(v)
                elif k == "wbytes":
                    wr += int(v)
    elif "blkio" in dirs:
        t = read(os.path.join(dirs["blkio"], "blkio.throttle.io_service_bytes_recursive"))
        if t is not None:
            rd = wr = 0
            for line in t.splitlines():
                f = line.split()
                if len(f) == 3 and f[1] == "Read":
                    rd += int(f[2])
                elif len(f) == 3 and f[1] == "Write":
                    wr += int(f[2])
    return cpu, mem, rd, wr


def record(a):
    state = json.load(open(a.state))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    if state.get("disk") is None:
        print("vmcgroup: no disk under the lab's directory: disk fields stay empty unless cgroup v2 has io", file=sys.stderr)
    with open(a.out, "w", newline="") as out:
        out.write("time_ns,vm,cpu_ns,memory_bytes,disk_read_bytes,disk_write_bytes\n")
        nxt = time.monotonic()
        while not stop:
            for name, dirs in state["vms"].items():
                t = time.time_ns()
                values = sample(dirs)
                if state.get("disk") is None and "v2" in dirs and not os.path.exists(os.path.join(dirs["v2"], "io.stat")):
                    values = values[:2] + (None, None)
                out.write(",".join([str(t), name] + ["" if v is None else str(v) for v in values]) + "\n")
            out.flush()
            nxt += a.interval
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                nxt = time.monotonic()


def remove(a):
    try:
        state = json.load(open(a.state))
    except (OSError, ValueError):
        return
    for d in reversed(state["created"]):
        if not os.path.isdir(d):
            continue
        parent = os.path.join(os.path.dirname(d), "cgroup.procs")
        for _ in range(100):
            try:
                for pid in open(os.path.join(d, "cgroup.procs")).read().split():
                    try:
                        with open(parent, "w") as f:
                            f.write(pid)
                    except OSError:
                        pass
                os.rmdir(d)
                break
            except OSError:
                time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create")
    c.add_argument("--prefix", required=True)
    c.add_argument("--inventory", required=True)
    c.add_argument("--state", required=True)
    c.add_argument("--disk-of")
    p = sub.add_parser("procs")
    p.add_argument("--state", required=True)
    p.add_argument("vm")
    r = sub.add_parser("record")
    r.add_argument("--state", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--interval", type=float, default=1.0)
    d = sub.add_parser("remove")
    d.add_argument("--state", required=True)
    a = ap.parse_args()
    {"create": create, "procs": procs, "record": record, "remove": remove}[a.cmd](a)


if __name__ == "__main__":
    main()
