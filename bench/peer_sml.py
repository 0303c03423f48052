#!/usr/bin/env python3
"""Benchmark body for smllib (run by bench/run with the venv python).

    peer_sml.py FRAMES.bin STATS.json

Feeds the dump to smllib's ``SmlStreamReader`` 4 KiB at a time, takes every frame (CRC checked) and its
values (``get_obis()``, each scaled with ``get_value()``), and writes one JSON object per value
to stdout (bench/run sends it to /dev/null), as ami-decode writes one reading per value.
STATS.json: frames, records (values), failed, loop_seconds.
"""
import json
import sys
import time

from smllib import SmlStreamReader


def main():
    path, stats_path = sys.argv[1:3]
    data = open(path, "rb").read()
    write = sys.stdout.write
    frames = records = failed = 0
    start = time.perf_counter()
    reader = SmlStreamReader()
    # Fed as a serial port delivers it, 4 KiB at a time (the reader keeps only its last 50 KiB).
    for i in range(0, len(data), 4096):
        reader.add(data[i:i + 4096])
        while True:
            try:
                frame = reader.get_frame()
            except Exception:
                failed += 1
                continue
            if frame is None:
                break
            frames += 1
            for entry in frame.get_obis():
                write(json.dumps({"obis": entry.obis.obis_code, "value": entry.get_value(), "unit": entry.unit}))
                write("\n")
                records += 1
    stats = {"frames": frames, "records": records, "failed": failed,
             "loop_seconds": round(time.perf_counter() - start, 3)}
    with open(stats_path, "w") as f:
        json.dump(stats, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
