#!/usr/bin/env python3
"""Wireless M-Bus frames decoded by pymbusparser (the Rust m-bus-parser's Python binding).

    wmbus_pymbusparser.py [--keys FILE] [FILE...]

Reads frames one per line (stdin or FILEs): plain hex, rtl_wmbus lines (the field after the last
``;0x``) and ``telegram=|HEX|`` lines (``_`` and ``|`` dropped); blank lines and ``#`` comments are
skipped. ``--keys`` names a key file in ami-decode's form (``NAME = 32 hex digits``, NAME an
identification number, ``MAN-IIIIIIII`` or ``MAN-IIIIIIII-VV-TT``); the key whose identification
number is the frame's link-layer one (bytes 4..7) is passed to ``pymbusparser.parse(key=...)``.

Writes one JSON line per frame: ``line`` (1-based), ``state`` (pymbusparser's ``decode_state``),
``decryption`` (its ``security.decryption_state``), ``meter`` (``MAN-IIIIIIII-VV-TT`` from its
identity), ``records``: ``index``, ``storage``, ``tariff``, ``subunit``, ``kind`` and ``value`` (its
``value`` object's kind and value text, as the library writes them) and ``unit`` (its unit text or
null); or ``line`` and ``error`` (the library's message) when it raises. Values are never passed
through float.
"""
import argparse
import json
import sys

import pymbusparser


def frame_hex(line):
    line = line.strip()
    if line.startswith("telegram="):
        body = line[len("telegram="):]
        body = body[: body.rfind("|") + 1] if "|" in body else body
        return body.replace("|", "").replace("_", "").replace(" ", "")
    if ";0x" in line or ";0X" in line:
        return line.replace(";0X", ";0x").rsplit(";0x", 1)[1].split(";")[0]
    return line.split("#", 1)[0].replace(" ", "")


def read_keys(path):
    keys = {}
    if not path:
        return keys
    for raw in open(path):
        raw = raw.strip()
        if not raw or raw.startswith("#") or "=" not in raw:
            continue
        name, value = (s.strip() for s in raw.split("=", 1))
        digits = name.split("-")[1] if "-" in name else name
        keys[digits.upper()] = bytes.fromhex(value)
    return keys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    keys = read_keys(args.keys)
    streams = [open(f) for f in args.files] if args.files else [sys.stdin]
    n = 0
    for stream in streams:
        for line in stream:
            n += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            hex_text = frame_hex(line)
            out = {"line": n}
            try:
                data = bytes.fromhex(hex_text)
                ident = data[7:3:-1].hex().upper() if len(data) >= 8 else ""
                key = keys.get(ident)
                d = pymbusparser.parse(data, key=key) if key else pymbusparser.parse(data)
                identity = (d.get("meter") or {}).get("identity") or {}
                out["state"] = d.get("decode_state")
                out["decryption"] = (d.get("security") or {}).get("decryption_state")
                if identity:
                    out["meter"] = "%s-%s-%02X-%02X" % (identity.get("manufacturer_code"), identity.get("id"),
                                                        identity.get("version", 0), identity.get("device_type_code", 0))
                out["records"] = [{
                    "index": r.get("index"), "storage": r.get("storage_number"), "tariff": r.get("tariff"),
                    "subunit": r.get("subunit"), "kind": (r.get("value") or {}).get("kind"),
                    "value": (r.get("value") or {}).get("value"), "unit": r.get("unit"),
                } for r in d.get("records") or []]
            except Exception as e:  # the library's errors (MbusParserError, ValueError) and bad hex
                out["error"] = str(e)
            sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
