#!/usr/bin/env python3
"""Benchmark body for dsmr_parser (run by bench/run with the venv python).

    peer_dsmr.py TELEGRAMS.txt STATS.json

Splits the file into P1 telegrams (each starts with '/' at the start of a line), parses each
with ``TelegramParser(spec).parse`` (CRC checked where the spec has one) and writes the
library's own ``Telegram.to_json()`` to stdout (bench/run sends it to /dev/null). The spec is
BELGIUM_FLUVIUS for telegrams whose header starts ``/FLU``, V5 otherwise (what the shipped
samples need). STATS.json: frames (telegrams), records (objects dsmr_parser produced, M-Bus
device readings included), failed, failed_frames ({header line: {count, error}}), loop_seconds.
"""
import json
import re
import sys
import time

from dsmr_parser import telegram_specifications as specs
from dsmr_parser.parsers import TelegramParser


def main():
    path, stats_path = sys.argv[1:3]
    text = open(path, "rb").read().decode("latin-1")
    parsers = {"V5": TelegramParser(specs.V5), "BELGIUM_FLUVIUS": TelegramParser(specs.BELGIUM_FLUVIUS)}
    write = sys.stdout.write
    frames = records = failed = 0
    failed_frames = {}
    start = time.perf_counter()
    starts = [m.start() for m in re.finditer(r"(?m)^/", text)]
    for i, s in enumerate(starts):
        telegram = text[s:starts[i + 1] if i + 1 < len(starts) else len(text)]
        frames += 1
        parser = parsers["BELGIUM_FLUVIUS" if telegram.startswith("/FLU") else "V5"]
        try:
            parsed = parser.parse(telegram)
            write(parsed.to_json())
            write("\n")
            for _, value in parsed:
                records += sum(len(d) if hasattr(d, "__len__") else 1 for d in value) if isinstance(value, list) else 1
        except Exception as e:
            failed += 1
            name = telegram.split("\n", 1)[0].strip()
            entry = failed_frames.setdefault(name, {"count": 0, "error": "%s: %s" % (type(e).__name__, e)})
            entry["count"] += 1
    stats = {"frames": frames, "records": records, "failed": failed, "failed_frames": failed_frames,
             "loop_seconds": round(time.perf_counter() - start, 3)}
    with open(stats_path, "w") as f:
        json.dump(stats, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
