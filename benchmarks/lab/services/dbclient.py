#!/usr/bin/env python3
"""Client of dbsim.py: one connection, one request per size argument, a short pause between requests.
Usage: dbclient.py HOST PORT PAUSE_S SIZE [SIZE ...]   (bounded: at most 200 requests, 3 s socket timeout)"""
import socket
import sys
import time

host, port, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with socket.create_connection((host, port), timeout=3) as s:
    f = s.makefile("rb")
    for size in sys.argv[4:204]:
        s.sendall(b"Q %d\n" % int(size))
        head = f.readline(64).split()
        if len(head) != 2:
            sys.exit(1)
        f.read(int(head[1]))
        time.sleep(pause)
