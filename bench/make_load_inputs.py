#!/usr/bin/env python3
"""Inputs for bench/load (standard library only).

    make_load_inputs.py METERS DAY ZONE OUT_DIR

Writes to OUT_DIR, for METERS electricity meters read every quarter-hour of the local day DAY
(YYYY-MM-DD) in the IANA zone ZONE (96 quarter-hours, 92 or 100 on a day the clocks change):

  frames.bin    wired M-Bus RSP_UD long frames (EN 13757-2 frame, EN 13757-3 variable data
                structure, CI 0x72), back to back as a head-end captures them: at local midnight
                and at the end of every quarter-hour, each meter's frame in turn. A frame holds a
                type F date and time of the meter's local clock (DIF 0x04, VIF 0x6D, summer-time
                bit set in summer) and the energy register in Wh (DIF 0x04, VIF 0x03, 32-bit
                integer), both storage 0. Meter i has identity BEN-<8 digits>-01-02 (manufacturer
                BEN, identification number 10000000 + i, version 1, medium electricity).
  meters.csv    the registry: one meter row each (ami-store registry import).
  accounts.csv  a postpaid account L-<8 digits> per meter on tariff load-flat
                (ami-bill account import).
  expected.csv  account,advance_wh,total: the register's advance over the day and the day's bill
                in cents, worked out here from the same numbers, independently of ami-bill:
                0.25 EUR/kWh rounded half away from zero to cents, 0.50 a day standing charge,
                VAT 21 % of the subtotal rounded half away from zero.

The register of meter i starts the day at 1,000,000 + 137 i Wh; quarter-hour k adds
50 + (7 i + 13 k) % 400 Wh. Prints the number of quarter-hours and of frames.
"""
import datetime
import os
import struct
import sys
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal


def identity(i):
    return "BEN-%08d-01-02" % (10_000_000 + i)


def manufacturer(code):
    """The 2-byte EN 13757-3 manufacturer field of a three-letter code."""
    a, b, c = (ord(x) - 64 for x in code)
    return struct.pack("<H", (a << 10) | (b << 5) | c)


def bcd(n, digits):
    """A number as little-endian packed BCD of `digits` digits."""
    s = "%0*d" % (digits, n)
    return bytes(int(s[k - 2]) << 4 | int(s[k - 1]) for k in range(len(s), 0, -2))


def type_f(local, summer):
    """EN 13757-3 Annex A type F (CP32) date and time, local civil time."""
    yy = local.year % 100
    century = (local.year - 1900) // 100
    return bytes([local.minute, local.hour | (century & 3) << 5 | (0x80 if summer else 0),
                  local.day | (yy & 7) << 5, local.month | (yy >> 3) << 4])


def cents(x):
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def main():
    meters, day, zone_name, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    zone = zoneinfo.ZoneInfo(zone_name)
    d = datetime.date.fromisoformat(day)
    start = datetime.datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(datetime.timezone.utc)
    n = d + datetime.timedelta(days=1)
    end = datetime.datetime(n.year, n.month, n.day, tzinfo=zone).astimezone(datetime.timezone.utc)
    quarters = int((end - start).total_seconds()) // 900

    # The fixed part of each meter's frame: C (RSP_UD), address, CI, the fixed header.
    heads = []
    for i in range(meters):
        heads.append(bytes([0x08, 1 + i % 250, 0x72]) + bcd(10_000_000 + i, 8)
                     + manufacturer("BEN") + bytes([0x01, 0x02, i & 0xFF, 0x00, 0x00, 0x00]))
    head_sums = [sum(h) for h in heads]
    length = len(heads[0]) + 6 + 6            # two records: DIF VIF + 4 bytes each
    start_block = bytes([0x68, length, length, 0x68])

    registers = [1_000_000 + 137 * i for i in range(meters)]
    with open(os.path.join(out, "frames.bin"), "wb") as f:
        for k in range(quarters + 1):
            t = start + datetime.timedelta(minutes=15 * k)
            local = t.astimezone(zone)
            time_record = b"\x04\x6d" + type_f(local, bool(local.dst()))
            time_sum = sum(time_record)
            chunk = bytearray()
            for i in range(meters):
                value = registers[i]
                energy = b"\x04\x03" + struct.pack("<I", value)
                cs = (head_sums[i] + time_sum + sum(energy)) & 0xFF
                chunk += start_block + heads[i] + time_record + energy + bytes([cs, 0x16])
                registers[i] = value + 50 + (7 * i + 13 * k) % 400
            f.write(chunk)

    with open(os.path.join(out, "meters.csv"), "w") as f:
        f.write("meter,protocol,medium,status\n")
        f.writelines("%s,mbus,electricity,active\n" % identity(i) for i in range(meters))
    opened = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(os.path.join(out, "accounts.csv"), "w") as f:
        f.write("account,meter,tariff,mode,opened\n")
        f.writelines("L-%08d,%s,load-flat,postpaid,%s\n" % (i, identity(i), opened) for i in range(meters))
    with open(os.path.join(out, "expected.csv"), "w") as f:
        for i in range(meters):
            advance = sum(50 + (7 * i + 13 * k) % 400 for k in range(quarters))
            energy = cents(Decimal(advance) / 1000 * Decimal("0.25") * 100)
            subtotal = energy + 50
            total = subtotal + cents(Decimal(subtotal) * Decimal("0.21"))
            f.write("L-%08d,%d,%d\n" % (i, advance, total))
    print(quarters, (quarters + 1) * meters)


if __name__ == "__main__":
    main()
