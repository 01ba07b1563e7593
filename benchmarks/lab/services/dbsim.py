#!/usr/bin/env python3
"""Stand-in for a database server (not a real DBMS): a threaded TCP service on one port that answers each request
line 'Q <n>' with a line 'R <n>' and n bytes of rows, over a persistent connection. Its traffic has the shape that matters
here (small requests, variable-size responses, long-lived client connections), without a database to install.
Usage: dbsim.py BIND_IP PORT"""
import socketserver
import sys

ROW = b"42|2025-03-03T12:00:00Z|ok|" + b"x" * 37 + b"\n"  # 64 bytes


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self):
        for _ in range(10000):
            line = self.rfile.readline(256)
            if not line:
                return
            parts = line.split()
            n = 64
            if len(parts) == 2 and parts[0] == b"Q" and parts[1].isdigit():
                n = max(1, min(int(parts[1]), 4_000_000))
            body = ROW * (n // len(ROW)) + ROW[: n % len(ROW)]
            self.wfile.write(b"R %d\n" % n + body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    with Server((sys.argv[1], int(sys.argv[2])), Handler) as s:
        s.serve_forever()
