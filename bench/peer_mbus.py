#!/usr/bin/env python3
"""Benchmark body for the Python M-Bus peers (run by bench/run with the venv python).

    peer_mbus.py {pymeterbus|pymbusparser} FRAMES.hex NAMES STATS.json [KEY]

Decodes every line of FRAMES.hex (one frame per line, frame i being sample frame i mod
len(NAMES)) and writes each frame's JSON to stdout (bench/run sends it to /dev/null), so the
work matches ``ami-decode > /dev/null``: decode and serialise.

* pymeterbus: ``meterbus.load(bytes)`` then the library's own ``to_JSON()`` of the telegram
  (header and every record, values as pyMeterBus formats them).
* pymbusparser: ``pymbusparser.render(bytes, "json")``, the library's own JSON (the Rust
  m-bus-parser does decode and serialisation); wired or wireless M-Bus frames, the wireless
  ones deciphered with KEY (32 hex digits) when it is given. Records are counted with ``parse()`` once per
  distinct frame, outside the measured work's hot path.

A frame the peer rejects (an exception) is counted, not fatal. STATS.json gets frames, records,
failed, failed_frames ({sample frame name: {count, error}}), partial (pymbusparser frames whose
decode_state is not "complete") and loop_seconds (decode loop only, without start-up).
"""
import json
import sys
import time


def main():
    lib, frames_path, names_path, stats_path = sys.argv[1:5]
    key = bytes.fromhex(sys.argv[5]) if len(sys.argv) > 5 else None
    options = {"key": key} if key else {}
    names = [n.rstrip("\n") for n in open(names_path)]
    write = sys.stdout.write
    failed, failed_frames, records, partial, frames = 0, {}, 0, 0, 0

    if lib == "pymeterbus":
        import meterbus

        def one(frame):
            telegram = meterbus.load(frame)
            write(telegram.to_JSON())
            write("\n")
            return len(telegram.records), False
    elif lib == "pymbusparser":
        import pymbusparser
        counted = {}

        def one(frame):
            write(pymbusparser.render(frame, "json", **options))
            write("\n")
            if frame not in counted:
                d = pymbusparser.parse(frame, **options)
                counted[frame] = (len(d.get("records") or []), d.get("decode_state") != "complete")
            return counted[frame]
    else:
        sys.exit("peer_mbus: unknown peer %s" % lib)

    start = time.perf_counter()
    with open(frames_path) as f:
        for i, line in enumerate(f):
            frames += 1
            try:
                n, part = one(bytes.fromhex(line))
                records += n
                partial += part
            except Exception as e:
                failed += 1
                name = names[i % len(names)] if names else str(i)
                entry = failed_frames.setdefault(name, {"count": 0, "error": "%s: %s" % (type(e).__name__, e)})
                entry["count"] += 1
    loop = time.perf_counter() - start
    stats = {"frames": frames, "records": records, "failed": failed, "failed_frames": failed_frames,
             "loop_seconds": round(loop, 3)}
    if lib == "pymbusparser":
        stats["partial"] = partial
    with open(stats_path, "w") as f:
        json.dump(stats, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
