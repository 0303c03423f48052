#!/usr/bin/env python3
"""Decode an SML byte stream with smllib and print one JSON line per list entry.

Input: a file (or stdin) of raw SML transport frames, as an optical head delivers them (garbage
and cut-off frames between them are skipped by smllib's ``SmlStreamReader``).

Output, one line per value of ``get_obis()`` (``frame`` counts the frames smllib yields, from 0)::

    {"frame": 0, "obis": "1-0:1.8.0*255", "value": 123456789, "scaler": -1, "unit": 30, "status": 1835268}

``value`` is what smllib read before scaling: an integer, or for octet strings smllib's text
(ASCII when printable, else hex). ``scaler``, ``unit`` and ``status`` are null when absent.
A frame smllib cannot read gives ``{"frame": N, "error": "Type: message"}``.
"""
import json
import sys

from smllib import SmlStreamReader


def main():
    path = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else None
    data = open(path, "rb").read() if path else sys.stdin.buffer.read()
    reader = SmlStreamReader()
    n = 0
    # Fed as a serial port delivers it: the reader keeps only its last 50 KiB.
    for i in range(0, len(data), 4096):
        reader.add(data[i:i + 4096])
        while True:
            try:
                frame = reader.get_frame()
            except Exception as e:  # a CRC error: smllib drops the frame and goes on
                print(json.dumps({"frame": n, "error": "%s: %s" % (type(e).__name__, e)}))
                n += 1
                continue
            if frame is None:
                break
            try:
                for entry in frame.get_obis():
                    print(json.dumps({"frame": n, "obis": entry.obis.obis_code, "value": entry.value,
                                      "scaler": entry.scaler, "unit": entry.unit, "status": entry.status}))
            except Exception as e:
                print(json.dumps({"frame": n, "error": "%s: %s" % (type(e).__name__, e)}))
            n += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
