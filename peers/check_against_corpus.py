#!/usr/bin/env python3
"""Checks that the peer harnesses still reproduce the shared corpus's expected peer output.

    .venv/bin/python peers/check_against_corpus.py [CORPUS]    (default ../shared/corpus)

* dsmr_decode.py on every ``dsmr/*.txt`` with the spec named in ``dsmr/expected.jsonl`` must give
  that file's ``objects`` and error/no error. The one known difference is allowed: the 13-month
  maximum-demand items, whose values the corpus took from ``to_json()`` as floats and the harness
  keeps as exact strings (compared as decimals here).
* iec62056_21_decode.py on every ``iec62056-21/*.bin`` must give the ``identification_line`` and
  the ``pwitab_iec62056_21`` object of ``iec62056-21/expected.jsonl`` exactly.

(The corpus has no pyMeterBus output to check mbus_pymeterbus.py against.)
Prints one line per mismatch and a closing "N passed, N failed"; exit 1 on any mismatch, 0 with
a note when the corpus is absent.
"""
import decimal
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(script, *args):
    out = subprocess.run([sys.executable, os.path.join(HERE, script), *args],
                         capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


def exact_items(objects):
    out = []
    for o in objects:
        if o.get("type") == "list":
            o = dict(o, items=[dict(i, value=decimal.Decimal(str(i["value"]))) for i in o["items"]])
        out.append(o)
    return out


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "corpus")
    if not os.path.isdir(corpus):
        print("check_against_corpus: no corpus at %s; nothing checked" % corpus)
        return 0
    passed = failed = 0
    for line in open(os.path.join(corpus, "dsmr", "expected.jsonl")):
        e = json.loads(line)
        got = run("dsmr_decode.py", "--spec", e["spec"], os.path.join(corpus, "dsmr", e["file"]))
        ok = (len(got) == 1 and exact_items(got[0].get("objects", [])) == exact_items(e["objects"])
              and ("error" in got[0]) == bool(e.get("error")))
        passed, failed = passed + ok, failed + (not ok)
        if not ok:
            print("dsmr %s: differs from expected.jsonl" % e["id"])
    for line in open(os.path.join(corpus, "iec62056-21", "expected.jsonl")):
        e = json.loads(line)
        got = run("iec62056_21_decode.py", os.path.join(corpus, "iec62056-21", e["file"]))[0]
        ok = got.pop("identification_line") == e.get("identification_line")
        got.pop("file", None)
        got.pop("readout", None)
        ok = ok and got == e["pwitab_iec62056_21"]
        passed, failed = passed + ok, failed + (not ok)
        if not ok:
            print("iec62056-21 %s: differs from expected.jsonl" % e["id"])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
