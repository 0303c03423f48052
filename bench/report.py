#!/usr/bin/env python3
"""Result rows and the final table for bench/run (standard library only).

    report.py row KEY=VALUE... [--extra STATS.json] [--time TIMEFILE]
        Prints one JSON result line. VALUEs of the count keys in NUMERIC become numbers, the
        rest stay strings. --time reads a `/usr/bin/time -f '%e %M %U %S'` output file (wall
        seconds, peak RSS KiB, user and system CPU seconds, the last two optional; a "Command
        terminated by signal N" line before it is noted); --extra
        merges a peer's stats (frames, records, failed, ...).
    report.py table RESULTS.jsonl
        Prints the plain-text table and the ami/peer ratios, and appends the ratio rows to
        RESULTS.jsonl.
"""
import json
import sys


# Keys whose values are numbers; everything else stays a string (a commit such as 9182615 too).
NUMERIC = {"frames", "records", "exit", "diagnostics", "cores", "peer_frames", "dsmr_telegrams",
           "dsmr_peer_telegrams", "dlms_apdus", "dlms_peer_apdus"}


def number(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def row(args):
    out = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--extra":
            with open(args[i + 1]) as f:
                out.update(json.load(f))
            i += 2
            continue
        if a == "--time":
            with open(args[i + 1]) as f:
                lines = [l.strip() for l in f if l.strip()]
            for line in lines[:-1]:
                if "terminated by signal" in line:
                    out["signal"] = int(line.rsplit(" ", 1)[1])
            fields = lines[-1].split()
            out["wall_s"] = float(fields[0])
            out["peak_rss_kib"] = int(fields[1])
            if len(fields) >= 4:
                out["cpu_s"] = round(float(fields[2]) + float(fields[3]), 2)
            i += 2
            continue
        key, _, value = a.partition("=")
        out[key] = None if value == "" else number(value) if key in NUMERIC else value
        i += 1
    if out.get("frames") and out.get("wall_s") is not None:
        out["frames_per_s"] = round(out["frames"] / out["wall_s"]) if out["wall_s"] > 0 else None
    # Frames per CPU second: what a run does on a machine whose cores other work shares.
    if out.get("frames") and out.get("cpu_s"):
        out["frames_per_cpu_s"] = round(out["frames"] / out["cpu_s"])
    print(json.dumps(out))


def fmt(value, spec):
    if value is None:
        return "-"
    return format(value, spec)


def table(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    meta = next((r for r in rows if r.get("kind") == "meta"), {})
    runs = [r for r in rows if r.get("kind") == "run"]
    print()
    print("ami benchmark  %s  commit %s  %s cores  %s" % (
        meta.get("time", "?"), meta.get("commit", "?"), meta.get("cores", "?"), meta.get("swift", "")))
    header = "%-30s %9s %8s %10s %7s %10s %9s %10s %6s  %s" % (
        "run", "frames", "wall s", "frames/s", "CPU s", "/CPU s", "RSS MiB", "records", "exit", "notes")
    print(header)
    print("-" * len(header))
    for r in runs:
        notes = list(r.get("notes") or [])
        if r.get("diagnostics"):
            notes.append("%d diagnostic lines" % r["diagnostics"])
        if r.get("signal"):
            notes.append("killed by signal %d" % r["signal"])
        if r.get("failed"):
            parts = ", ".join("%s x%d (%s)" % (n, e["count"], e["error"][:60])
                              for n, e in sorted(r.get("failed_frames", {}).items()))
            notes.append("failed on %d frames: %s" % (r["failed"], parts))
        if r.get("partial"):
            notes.append("%d frames decoded partially" % r["partial"])
        rss = r["peak_rss_kib"] / 1024 if r.get("peak_rss_kib") is not None else None
        print("%-30s %9s %8s %10s %7s %10s %9s %10s %6s  %s" % (
            r["name"], fmt(r.get("frames"), "d"), fmt(r.get("wall_s"), ".2f"),
            fmt(r.get("frames_per_s"), ",d"), fmt(r.get("cpu_s"), ".2f"), fmt(r.get("frames_per_cpu_s"), ",d"),
            fmt(rss, ".1f"), fmt(r.get("records"), "d"),
            fmt(r.get("exit"), "d"), "; ".join(notes)))

    if any(r.get("protocol") == "dsmr" for r in runs):
        print("(DSMR rows count telegrams as frames; records are JSON lines for ami-decode,"
              " parsed objects for the peers)")
    if any(r.get("protocol") == "dlms" for r in runs):
        print("(DLMS rows count APDUs as frames; records are JSON lines for ami-decode, APDUs decoded"
              " for the peers)")

    # Peak memory against input size: the same ami run at N and 2N frames.
    growth = []
    for r in runs:
        if r.get("tool") != "ami-decode":
            continue
        for s in runs:
            if (s.get("tool") == "ami-decode" and s.get("protocol") == r.get("protocol")
                    and s.get("input") == r.get("input") and s.get("frames") == 2 * r.get("frames", 0)
                    and r.get("peak_rss_kib") and s.get("peak_rss_kib")):
                growth.append((r, s))
    if growth:
        print()
        print("peak RSS at 2N frames / at N frames (about 1.0 means memory does not grow with the input):")
        for r, s in growth:
            print("  %-10s %-7s %.2f  (%.1f MiB at %d, %.1f MiB at %d)" % (
                r["protocol"], r["input"], s["peak_rss_kib"] / r["peak_rss_kib"],
                r["peak_rss_kib"] / 1024, r["frames"], s["peak_rss_kib"] / 1024, s["frames"]))

    # A peer is compared with the ami-decode runs of its protocol (the smallest input of each
    # layout), or, when it names a pair, with the ami-decode runs of that pair only.
    ratios = []
    for peer in runs:
        if peer.get("tool") == "ami-decode" or not peer.get("frames_per_s"):
            continue
        for ami in runs:
            if (ami.get("tool") == "ami-decode" and ami.get("protocol") == peer.get("protocol")
                    and ami.get("pair") == peer.get("pair")
                    and ami.get("frames_per_s") and ami.get("frames") == min(
                        a.get("frames", 0) for a in runs
                        if a.get("tool") == "ami-decode" and a.get("protocol") == ami.get("protocol")
                        and a.get("input") == ami.get("input"))):
                ratios.append({
                    "kind": "ratio", "name": "%s vs %s" % (ami["name"], peer["name"]),
                    "ami": ami["name"], "peer": peer["name"],
                    "speed": round(ami["frames_per_s"] / peer["frames_per_s"], 2),
                    "cpu": round(ami["frames_per_cpu_s"] / peer["frames_per_cpu_s"], 2)
                    if ami.get("frames_per_cpu_s") and peer.get("frames_per_cpu_s") else None,
                    "peak_rss": round(ami["peak_rss_kib"] / peer["peak_rss_kib"], 3),
                    "ami_exit": ami.get("exit")})
    if ratios:
        print()
        print("ami-decode / peer  (speed: frames/s ratio, above 1 = ami faster; CPU: frames per CPU"
              " second ratio; peak RSS ratio, below 1 = ami smaller)")
        for q in ratios:
            warn = "" if q["ami_exit"] == 0 else "   [ami-decode exit %s: its numbers are not a real decode]" % q["ami_exit"]
            print("  %-58s speed %9.2fx   CPU %8sx   peak RSS %6.3fx%s" % (
                q["name"], q["speed"], fmt(q["cpu"], ".2f"), q["peak_rss"], warn))
        with open(path, "a") as f:
            for q in ratios:
                f.write(json.dumps(q) + "\n")


def main(argv):
    if len(argv) >= 2 and argv[1] == "row":
        row(argv[2:])
    elif len(argv) == 3 and argv[1] == "table":
        table(argv[2])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
