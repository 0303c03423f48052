#!/usr/bin/env python3
"""Decode an IEC 62056-21 readout with pwitab's iec62056_21 and print it as one JSON line.

Input: readout files (or stdin) as the meter puts them on the line, read as bytes and decoded as
ISO-8859-1: identification line ``/XXXZ...``, then either a mode C/E data message
``STX data-lines ! CR LF ETX BCC`` or, for push meters, plain lines ending with ``!``. Echoed
sign-on requests (``/?...!``), leading noise bytes (0x7F, NUL) and LF-only line ends are
tolerated the way ../shared/corpus/iec62056-21/README.md describes.

Output, one line per readout, the same shape as the ``pwitab_iec62056_21`` field of the corpus's
expected.jsonl (so a test can compare the two), plus ``identification_line`` and ``readout``::

    {"readout": 1, "identification_line": "/SIm5\\\\2MeterSim-2\\r\\n",
     "identification": {"manufacturer": "SIm", "switchover_baudrate_char": "5",
                        "identification": "2MeterSim-2"},
     "block_has_stx_etx": true, "bcc_valid": true, "bcc": "3f",
     "data_sets": [{"address": "1.8.0", "value": "0001234.5", "unit": "kWh"}, ...],
     "parsed_with": "ReadoutDataMessage.from_representation"}

How it is put together (all parsing is the library's; only the cutting up is done here):

* ``identification_line``: the first line that, after leading control/noise bytes, starts with
  ``/`` and is not a sign-on request ``/?``. ``identification`` is
  ``IdentificationMessage.from_representation`` of that line with its end made CR LF. The
  library always skips two characters after the baud character (it assumes a ``\\W``
  sequence), so ``/SIM5MeterSim-1`` gives ``eterSim-1``: that is the peer's behaviour, kept.
* When an STX ... ETX block follows: ``block_has_stx_etx``, ``bcc`` (the byte after ETX, hex)
  and ``bcc_valid`` (``utils.bcc_valid``). With a valid BCC the data sets come from
  ``ReadoutDataMessage.from_representation``; otherwise ``error`` says why and they come from
  the fallback below.
* Fallback (no STX/ETX, no ETX, or a bad BCC): ``DataBlock.from_representation`` of the text
  between the identification line (or the STX after it) and the first ``!``.
* ``data_sets`` flattens the data lines; values and units are the library's strings, unchanged
  (``" 20000"`` keeps its space; ``1.8.0(013925.5*)`` has unit ``""``). An extra value group such
  as ``1.6.0(05.432*kW)(2403011215)`` gives a second data set with address null.

Only the first readout of each input is decoded unless ``--all`` is given (the corpus covers
the first only). Failures are data: ``error`` is set and the harness goes on. Exit status 0,
or 2 for bad usage.
"""
import argparse
import json
import sys

from iec62056_21 import messages, utils

STX, ETX = "\x02", "\x03"
NOISE = "".join(chr(c) for c in range(0, 32) if chr(c) not in "\r\n") + "\x7f"


def identification_lines(text):
    """(start of the '/', end of the line incl. its terminator) of each identification line."""
    found = []
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl + 1
        line = text[pos:end]
        stripped = line.lstrip(NOISE)
        if stripped.startswith("/") and not stripped.startswith("/?"):
            found.append((pos + len(line) - len(stripped), end))
        pos = end
    return found


def data_sets_of(block):
    return [{"address": s.address, "value": s.value, "unit": s.unit}
            for line in block.data_lines for s in line.data_sets]


def decode(text, ident):
    """Decodes the readout in ``text`` whose identification line is text[ident[0]:ident[1]]
    (``ident`` None when there is none)."""
    out = {}
    start = 0
    if ident is not None:
        line = text[ident[0]:ident[1]]
        out["identification_line"] = line
        start = ident[1]
        try:
            m = messages.IdentificationMessage.from_representation(line.rstrip("\r\n") + "\r\n")
            out["identification"] = {"manufacturer": m.manufacturer,
                                     "switchover_baudrate_char": m.switchover_baudrate_char,
                                     "identification": m.identification}
        except Exception as e:
            out["error"] = "%s: %s" % (type(e).__name__, e)
    else:
        out["identification_line"] = None
    stx = text.find(STX, start)
    etx = text.find(ETX, stx) if stx >= 0 else -1
    if stx >= 0 and etx >= 0:
        block = text[stx:etx + 2]
        out["block_has_stx_etx"] = True
        out["bcc_valid"] = len(block) == etx - stx + 2 and utils.bcc_valid(block)
        out["bcc"] = "%02x" % ord(text[etx + 1]) if etx + 1 < len(text) else None
        try:
            message = messages.ReadoutDataMessage.from_representation(block)
            out["data_sets"] = data_sets_of(message.data_block)
            out["parsed_with"] = "ReadoutDataMessage.from_representation"
            return out
        except Exception as e:
            out["error"] = "%s: %s" % (type(e).__name__, e)
    body_start = stx + 1 if stx >= 0 else start
    bang = text.find("!", body_start)
    body = text[body_start:bang if bang >= 0 else len(text)]
    try:
        out["data_sets"] = data_sets_of(messages.DataBlock.from_representation(body))
        out["parsed_with"] = 'DataBlock.from_representation (lines between identification and "!")'
    except Exception as e:
        error = "%s: %s" % (type(e).__name__, e)
        out["error"] = out["error"] + "; then " + error if "error" in out else error
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="readout files (default: stdin)")
    parser.add_argument("--all", action="store_true",
                        help="decode every readout (one per identification line), not just the first")
    args = parser.parse_args()
    for name in args.files or [None]:
        data = open(name, "rb").read() if name else sys.stdin.buffer.read()
        text = data.decode("latin-1")
        idents = identification_lines(text) or [None]
        if not args.all:
            idents = idents[:1]
        for n, ident in enumerate(idents, 1):
            end = idents[n][0] if args.all and n < len(idents) else len(text)
            out = {"readout": n}
            if name:
                out = {"file": name, **out}
            out.update(decode(text[:end], ident))
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
