#!/usr/bin/env python3
"""Writes the static content the lab's HTTP servers serve (seeded, so sizes are the same for a seed).
www/ tenants' web servers, api/ tenants' API servers, xweb/ external web/CDN/mirror, c2/ the malicious host."""
import argparse
import os
import random


SCALE = 1.0


def blob(path, size, rnd):
    size = max(1024, int(size * SCALE))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rnd.randbytes(size))


def text(path, size, rnd, word=b"lorem ipsum dolor sit amet "):
    size = max(min(size, 1024), int(size * SCALE))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write((word * (size // len(word) + 1))[:size])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--volume", type=float, default=1.0, help="scale of file sizes")
    a = ap.parse_args()
    global SCALE
    SCALE = a.volume
    rnd = random.Random(a.seed * 7919 + 1)
    o = a.out
    text(f"{o}/www/index.html", 3200, rnd)
    text(f"{o}/www/static/app.js", 61000, rnd, b"function f(){return 1;} ")
    text(f"{o}/www/static/style.css", 12500, rnd, b"body{margin:0} ")
    for i in range(1, 9):
        blob(f"{o}/www/img/p{i}.bin", rnd.randint(20_000, 260_000), rnd)
    for i in range(1, 41):
        text(f"{o}/api/items/{i}.json", rnd.randint(300, 24_000), rnd, b'{"id":1,"v":"abc"},')
    text(f"{o}/api/health", 2, rnd, b"ok")
    text(f"{o}/api/export/report.csv", 1_500_000, rnd, b"2025-03-03,42,ok,100.5\n")
    text(f"{o}/xweb/index.html", 5400, rnd)
    text(f"{o}/xweb/v1/partner.json", 1800, rnd, b'{"k":"v"},')
    for i in range(1, 6):
        blob(f"{o}/xweb/pkgs/update-{i}.deb", rnd.randint(200_000, 1_200_000), rnd)
    for i in range(1, 6):
        blob(f"{o}/xweb/cdn/asset-{i}.bin", rnd.randint(5_000, 90_000), rnd)
    text(f"{o}/c2/beacon", 48, rnd, b"noop;")
    text(f"{o}/c2/tasks/t1", 220, rnd, b"sleep 60;")


if __name__ == "__main__":
    main()
