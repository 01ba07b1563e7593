#!/usr/bin/env python3
"""Re-encapsulates part of a lab capture from VXLAN (UDP 4789) into Geneve (UDP 6081, RFC 8926), with options.

For every Ethernet/IPv4/UDP/VXLAN packet selected (by --vni, and/or by time with --from/--to in epoch seconds),
the 8-byte VXLAN header is replaced by a Geneve header carrying the same VNI, protocol type 0x6558 (Ethernet) and
two options in the experimental class 0xFF01 (RFC 8926 5.2 / IANA "Experimental Use"):
  type 0x01, 4 bytes: the outer source address's last octet and the inner frame's EtherType ("ingress port" style)
  type 0x02, 8 bytes: a policy tag: b'FLOWENG' + VNI low byte
Outer lengths are recomputed (IPv4 total length and header checksum, UDP length; UDP checksum 0 as VXLAN/Geneve
over IPv4 allow), the inner frame is untouched, timestamps and order are kept. Everything else is copied as is.

  geneve.py [--vni 5002] [--from T --to T] IN.pcapng OUT.pcapng"""
import argparse
import os
import struct
import sys

import pcapng

OPT_CLASS = 0xFF01


def csum(hdr):
    s = 0
    for i in range(0, len(hdr), 2):
        s += (hdr[i] << 8) | hdr[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def geneve_header(vni, outer_src_last, inner_ethertype):
    opt1 = struct.pack("!HBB", OPT_CLASS, 0x01, 1) + struct.pack("!BBH", outer_src_last, 0, inner_ethertype)
    opt2 = struct.pack("!HBB", OPT_CLASS, 0x02, 2) + b"FLOWENG" + bytes([vni & 0xFF])
    opts = opt1 + opt2
    ver_optlen = (0 << 6) | (len(opts) // 4)
    return struct.pack("!BBH", ver_optlen, 0, 0x6558) + struct.pack("!I", vni << 8) + opts


def convert(frame, want_vni):
    """Return the Geneve frame, or None when the packet is not a selected VXLAN packet."""
    off = 12
    if len(frame) < 14:
        return None
    etype = struct.unpack_from("!H", frame, off)[0]
    off += 2
    while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
        etype = struct.unpack_from("!H", frame, off + 2)[0]
        off += 4
    if etype != 0x0800 or len(frame) < off + 20:
        return None
    ip = off
    ihl = (frame[ip] & 0x0F) * 4
    if frame[ip] >> 4 != 4 or frame[ip + 9] != 17 or ihl < 20 or len(frame) < ip + ihl + 8 + 8:
        return None
    if struct.unpack_from("!H", frame, ip + 6)[0] & 0x3FFF:  # fragment
        return None
    udp = ip + ihl
    if struct.unpack_from("!H", frame, udp + 2)[0] != 4789:
        return None
    vx = udp + 8
    if not frame[vx] & 0x08:
        return None
    vni = int.from_bytes(frame[vx + 4:vx + 7], "big")
    if want_vni is not None and vni != want_vni:
        return None
    inner = frame[vx + 8:]
    inner_et = struct.unpack_from("!H", inner, 12)[0] if len(inner) >= 14 else 0
    gh = geneve_header(vni, frame[ip + 15], inner_et)
    delta = len(gh) - 8
    out = bytearray(frame[:vx]) + gh + inner
    total = struct.unpack_from("!H", out, ip + 2)[0] + delta
    struct.pack_into("!H", out, ip + 2, total)
    struct.pack_into("!H", out, ip + 10, 0)
    struct.pack_into("!H", out, ip + 10, csum(bytes(out[ip:ip + ihl])))
    ulen = struct.unpack_from("!H", out, udp + 4)[0] + delta
    struct.pack_into("!HHH", out, udp + 2, 6081, ulen, 0)
    return bytes(out), delta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vni", type=int)
    ap.add_argument("--from", dest="t_from", type=float)
    ap.add_argument("--to", dest="t_to", type=float)
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()
    if a.vni is None and a.t_from is None and a.t_to is None:
        ap.error("select packets with --vni and/or --from/--to")
    n = changed = 0
    with open(a.dst + ".tmp", "wb") as out:
        for blk in pcapng.read_blocks(a.src):
            if blk[0] == "raw":
                out.write(blk[1])
                continue
            _, endian, iface, if_id, ts, data, orig, opts = blk
            n += 1
            t = (ts / iface.units) + iface.tsoffset
            conv = None
            if iface.linktype == 1 and (a.t_from is None or t >= a.t_from) and (a.t_to is None or t <= a.t_to):
                conv = convert(data, a.vni)
            if conv:
                data, delta = conv
                orig += delta
                changed += 1
            out.write(pcapng.epb(endian, if_id, ts, data, orig, opts))
    os.replace(a.dst + ".tmp", a.dst)
    print(f"geneve: {a.src} -> {a.dst}: {changed} of {n} packets re-encapsulated as Geneve", file=sys.stderr)


if __name__ == "__main__":
    main()
