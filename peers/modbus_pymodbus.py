#!/usr/bin/env python3
"""Read a Modbus TCP device's registers with pymodbus's own client and decode them with its
convert_from_registers, register by register, as a device profile (ami-modbus-profile(5)) names
them; print one JSON line per register:

    {"name": NAME, "function": 3|4, "address": N, "registers": [words], "value": TEXT}

`value` is what pymodbus decodes, written exactly: integers as they are; a float32 as the shortest
decimal that reads back to the same binary32 (found by trying 1 to 9 significant digits, so the
text does not depend on Python's float64 repr), a float64 as Python's repr (shortest round trip);
"nan" / "inf" / "-inf" for those. Without scale or unit: the raw decoded value.

pymodbus knows word orders "big" (ami's abcd) and "little" (ami's cdab), not byte swaps within a
word; registers in badc or dcba order are left out.

usage: modbus_pymodbus.py HOST:PORT PROFILE.json [--unit N]
"""
import argparse
import json
import math
import struct
import sys

from pymodbus.client import ModbusTcpClient

TYPES = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "int64": 4, "uint64": 4, "float64": 4}
ORDERS = {"abcd": "big", "cdab": "little"}


def address(v):
    return int(v, 16) if isinstance(v, str) else int(v)


def float32_text(f):
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    bits = struct.pack(">f", f)
    for digits in range(1, 10):
        text = "%.*g" % (digits, f)
        if struct.pack(">f", float(text)) == bits:
            return text
    return repr(f)


def text(value, kind):
    if kind == "float32":
        return float32_text(value)
    if kind == "float64":
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return repr(value)
    return str(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("endpoint")
    ap.add_argument("profile")
    ap.add_argument("--unit", type=int, default=1)
    args = ap.parse_args()
    host, port = args.endpoint.rsplit(":", 1)
    with open(args.profile) as f:
        profile = json.load(f)
    order = profile.get("word_order", "abcd")
    client = ModbusTcpClient(host, port=int(port), timeout=3)
    if not client.connect():
        sys.exit("modbus_pymodbus.py: cannot connect to %s" % args.endpoint)
    for reg in profile["registers"]:
        kind = reg.get("type", "float32")
        word_order = ORDERS.get(reg.get("word_order", order))
        if word_order is None:
            continue
        fc = reg.get("function", 4)
        at = address(reg["address"])
        read = client.read_input_registers if fc == 4 else client.read_holding_registers
        r = read(at, count=TYPES[kind], device_id=args.unit)
        if r.isError():
            print(json.dumps({"name": reg["name"], "function": fc, "address": at, "error": str(r)}))
            continue
        value = client.convert_from_registers(r.registers, getattr(client.DATATYPE, kind.upper()), word_order=word_order)
        print(json.dumps({"name": reg["name"], "function": fc, "address": at, "registers": r.registers,
                          "value": text(value, kind)}))
    client.close()


if __name__ == "__main__":
    main()
