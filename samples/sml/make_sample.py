#!/usr/bin/env python3
"""Writes ehz-push.bin: three SML 1.04 transport frames as an eHZ electricity meter pushes them on
its optical interface every few seconds (open, get-list and close responses), with made-up
values. Standard library only; written for this project (Apache-2.0), so the file may be shipped.

    samples/sml/make_sample.py samples/sml/ehz-push.bin
"""
import struct
import sys


def crc16_x25(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def tl(kind, size):
    # kind: 0 octets, 5 integer, 6 unsigned, 7 list; size counts the TL byte except for lists.
    return bytes([(kind << 4) | size])


def octets(b):
    return tl(0, len(b) + 1) + b


def unsigned(v, width):
    return tl(6, width + 1) + v.to_bytes(width, "big")


def integer(v, width):
    return tl(5, width + 1) + v.to_bytes(width, "big", signed=True)


def lst(*items):
    return tl(7, len(items)) + b"".join(items)


ABSENT = b"\x01"
SERVER = bytes.fromhex("0A01454D480000BC614E")       # DIN 43863-5: 1EMH0012345678


def message(tid, tag, body):
    # SML_Message: a list of 6, the last two being the CRC over what precedes it and the end mark.
    m = tl(7, 6) + octets(tid) + unsigned(0, 1) + unsigned(0, 1) + lst(unsigned(tag, 4), body)
    crc = crc16_x25(m)
    return m + b"\x63" + struct.pack("<H", crc) + b"\x00"


def entry(obis, value, unit=None, scaler=None, status=None):
    return lst(octets(bytes(obis)), unsigned(status, 3) if status is not None else ABSENT, ABSENT,
               unsigned(unit, 1) if unit is not None else ABSENT,
               integer(scaler, 1) if scaler is not None else ABSENT, value, ABSENT)


def frame(n, seconds, import_wh_tenths, export_wh_tenths, power_w):
    tid = bytes([0x20, 0x24, n, 0])
    open_res = message(tid, 0x0101, lst(ABSENT, ABSENT, octets(bytes([0x12, n])), octets(SERVER), ABSENT, ABSENT))
    entries = lst(
        entry([1, 0, 96, 50, 1, 1], octets(b"EMH")),
        entry([1, 0, 96, 1, 0, 255], octets(SERVER)),
        entry([1, 0, 1, 8, 0, 255], unsigned(import_wh_tenths, 5), unit=30, scaler=-1, status=0x1C0104),
        entry([1, 0, 2, 8, 0, 255], unsigned(export_wh_tenths, 5), unit=30, scaler=-1),
        entry([1, 0, 16, 7, 0, 255], integer(power_w, 4), unit=27, scaler=0),
    )
    get_list = message(tid[:3] + b"\x01", 0x0701,
                       lst(ABSENT, octets(SERVER), octets(bytes([1, 0, 98, 10, 255, 255])),
                           lst(unsigned(1, 1), unsigned(seconds, 4)), entries, ABSENT, ABSENT))
    close_res = message(tid[:3] + b"\x02", 0x0201, lst(ABSENT))
    body = open_res + get_list + close_res
    padding = (4 - len(body) % 4) % 4
    body += b"\x00" * padding
    out = b"\x1b\x1b\x1b\x1b\x01\x01\x01\x01"
    for i in range(0, len(body), 4):
        block = body[i:i + 4]
        out += block + (block if block == b"\x1b\x1b\x1b\x1b" else b"")
    out += b"\x1b\x1b\x1b\x1b\x1a" + bytes([padding])
    return out + struct.pack("<H", crc16_x25(out))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "ehz-push.bin"
    frames = [frame(1, 86_400, 123_456_789, 5_432_100, 1_234),
              frame(2, 86_402, 123_456_796, 5_432_100, 1_240),
              frame(3, 86_404, 123_456_803, 5_432_100, -310)]
    with open(path, "wb") as f:
        f.write(b"".join(frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
