#!/usr/bin/env python3
"""Decode DSMR P1 telegrams with dsmr_parser and print one JSON line per telegram.

Input: a file (or stdin) holding one or more P1 telegrams, read as bytes and decoded as
ISO-8859-1. A telegram starts at a ``/`` at the beginning of a line and runs to the next such
``/`` (or the end); bytes before the first ``/`` are ignored, and whatever follows the ``!CRC``
line stays in the telegram, as it would when the whole file is handed to dsmr_parser (the corpus
does that: see ../shared/corpus/dsmr/README.md).

Output, one line per telegram (``telegram`` counts from 1 per input; ``offset`` is the byte
offset of its ``/``)::

    {"telegram": 1, "offset": 0, "spec": "V5", "objects": [
        {"obis": "1-0:1.8.1", "name": "ELECTRICITY_USED_TARIFF_1", "type": "CosemObject",
         "values": [{"value": "1581.123", "unit": "kWh"}]}, ...]}

* ``objects`` come in telegram order (dsmr_parser itself groups them by its specification's
  order; here every match of the spec's regexes is run through dsmr_parser's own value parser,
  exactly as ``TelegramParser.parse`` does, and then sorted by position in the telegram).
  ``obis`` is the reference as written in the line (text before the first ``(``).
* Values are exact: dsmr_parser builds Decimals from the text, so ``value`` is ``str()`` of the
  Decimal (``"0.000"`` keeps its digits). Timestamps are ISO 8601 in UTC after dsmr_parser's
  W/S (winter/summer) handling; counts are JSON integers; strings and null as is.
* The Belgian 13-month maximum-demand line (MaxDemandParser returns a list) comes out as
  ``"type": "list", "items": [{"datetime", "occurred", "value", "unit"}]`` with exact values
  (the corpus's expected.jsonl took these from ``to_json()``, so its values there are floats).
* A telegram whose CRC dsmr_parser rejects gets ``"error": "InvalidChecksumError: ..."`` and
  still its ``objects``, parsed with checksum validation off (as the corpus does); other
  failures give ``error`` only. ``--no-crc`` turns checksum validation off altogether.

``--spec`` names a dsmr_parser telegram specification (V2_2, V3, V4, V5, BELGIUM_FLUVIUS,
LUXEMBOURG_SMARTY, SWEDEN, Q3D, SAGEMCOM_T210_D_R, ISKRA_IE, EON_HUNGARY, ...; default V5).
Specifications that expect a GCM-encrypted frame (``general_global_cipher``) are used with
that switched off, since the input here is plaintext.

Exit status 0 (peer failures are data, reported per telegram), 2 for bad usage.
"""
import argparse
import copy
import datetime
import decimal
import json
import re
import sys

from dsmr_parser import telegram_specifications
from dsmr_parser.exceptions import InvalidChecksumError
from dsmr_parser.parsers import TelegramParser

START = re.compile(r"(?m)^/")


def spec_names():
    return sorted(n for n, v in vars(telegram_specifications).items()
                  if n.isupper() and isinstance(v, dict) and "objects" in v)


def plain(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def object_json(line, name, obj):
    obis = line.split("(", 1)[0].strip()
    if isinstance(obj, list):  # MaxDemandParser: one MBusObjectPeak per month
        items = []
        for peak in obj:
            v = peak.values
            items.append({"datetime": plain(v[0]["value"]), "occurred": plain(v[1]["value"]),
                          "value": plain(v[2]["value"]), "unit": v[2].get("unit")})
        return {"obis": obis, "name": name, "type": "list", "items": items}
    return {"obis": obis, "name": name, "type": type(obj).__name__,
            "values": [{"value": plain(v.get("value")), "unit": v.get("unit")} for v in obj.values]}


def parse_objects(parser, text):
    """TelegramParser.parse's object loop, keeping each match's position (and skipping, as it
    does, lines its value parser rejects)."""
    found = []
    spec = parser.telegram_specification
    for entry in spec["objects"]:
        pattern = parser.telegram_specification_regexes[entry["obis_reference"]]
        for m in pattern.finditer(text):
            try:
                obj = entry["value_parser"].parse(m.group(0))
            except Exception:
                continue
            found.append((m.start(), object_json(m.group(0), entry["value_name"], obj)))
    found.sort(key=lambda p: p[0])
    return [o for _, o in found]


def decode(text, spec_name, spec, check_crc):
    out = {"spec": spec_name}
    strict = TelegramParser(spec, apply_checksum_validation=check_crc)
    lenient = TelegramParser(spec, apply_checksum_validation=False)
    try:
        strict.parse(text)  # validates the CRC (and runs dsmr_parser's own path end to end)
    except InvalidChecksumError as e:
        out["error"] = "InvalidChecksumError: %s" % e
    except Exception as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
        return out
    out["objects"] = parse_objects(lenient, text)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="telegram files (default: stdin)")
    parser.add_argument("--spec", default="V5", help="dsmr_parser specification: " + ", ".join(spec_names()))
    parser.add_argument("--no-crc", action="store_true", help="do not validate the CRC")
    args = parser.parse_args()
    spec = getattr(telegram_specifications, args.spec, None)
    if args.spec not in spec_names():
        parser.error("unknown --spec %s (one of %s)" % (args.spec, ", ".join(spec_names())))
    if spec.get("general_global_cipher"):
        spec = copy.copy(spec)
        spec["general_global_cipher"] = False
    for name in args.files or [None]:
        data = open(name, "rb").read() if name else sys.stdin.buffer.read()
        text = data.decode("latin-1")
        starts = [m.start() for m in START.finditer(text)]
        for n, start in enumerate(starts, 1):
            end = starts[n] if n < len(starts) else len(text)
            out = {"telegram": n, "offset": start}
            if name:
                out = {"file": name, **out}
            out.update(decode(text[start:end], args.spec, spec, not args.no_crc))
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
