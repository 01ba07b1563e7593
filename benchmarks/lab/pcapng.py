"""Minimal pcapng block reader/writer for the lab's post-processing (timewarp.py, geneve.py).

Reads any section byte order, keeps every block it does not change byte for byte, and exposes Enhanced Packet
Blocks as (interface, timestamp in units of that interface's if_tsresol, captured bytes, original length)."""
import struct

SHB, IDB, EPB, SPB = 0x0A0D0D0A, 0x00000001, 0x00000006, 0x00000003


class Interface:
    def __init__(self, linktype, snaplen, tsresol_units_per_s, tsoffset):
        self.linktype = linktype
        self.snaplen = snaplen
        self.units = tsresol_units_per_s  # timestamp units per second
        self.tsoffset = tsoffset


def _parse_options(data, endian):
    opts, i = [], 0
    while i + 4 <= len(data):
        code, length = struct.unpack(endian + "HH", data[i:i + 4])
        if code == 0:
            break
        opts.append((code, data[i + 4:i + 4 + length]))
        i += 4 + ((length + 3) & ~3)
    return opts


def read_blocks(path):
    """Yield ('raw', bytes) for blocks passed through, ('epb', endian, iface, if_id, ts, data, orig_len, opts_raw)."""
    with open(path, "rb") as f:
        buf = f.read()
    pos, endian, ifaces = 0, "<", []
    while pos + 12 <= len(buf):
        btype_le = struct.unpack("<I", buf[pos:pos + 4])[0]
        if btype_le == SHB:
            bom = buf[pos + 8:pos + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        btype, blen = struct.unpack(endian + "II", buf[pos:pos + 8])
        if blen < 12 or pos + blen > len(buf):
            raise ValueError(f"{path}: bad block length {blen} at offset {pos}")
        body = buf[pos + 8:pos + blen - 4]
        if btype == IDB:
            linktype, _, snaplen = struct.unpack(endian + "HHI", body[:8])
            units, tsoffset = 10 ** 6, 0
            for code, val in _parse_options(body[8:], endian):
                if code == 9 and len(val) >= 1:
                    r = val[0]
                    units = 2 ** (r & 0x7F) if r & 0x80 else 10 ** r
                elif code == 14 and len(val) == 8:
                    tsoffset = struct.unpack(endian + "q", val)[0]
            ifaces.append(Interface(linktype, snaplen, units, tsoffset))
            yield ("raw", buf[pos:pos + blen])
        elif btype == EPB:
            if_id, ts_hi, ts_lo, cap, orig = struct.unpack(endian + "IIIII", body[:20])
            data = body[20:20 + cap]
            opts_raw = body[20 + ((cap + 3) & ~3):]
            yield ("epb", endian, ifaces[if_id], if_id, (ts_hi << 32) | ts_lo, data, orig, opts_raw)
        else:
            yield ("raw", buf[pos:pos + blen])
        pos += blen


def epb(endian, if_id, ts, data, orig_len, opts_raw=b""):
    pad = (-len(data)) % 4
    body = struct.pack(endian + "IIIII", if_id, ts >> 32, ts & 0xFFFFFFFF, len(data), orig_len) + data + b"\0" * pad
    body += opts_raw
    blen = 12 + len(body)
    return struct.pack(endian + "II", EPB, blen) + body + struct.pack(endian + "I", blen)
