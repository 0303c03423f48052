#!/usr/bin/env python3
"""Decode wired M-Bus frames with pyMeterBus (module ``meterbus``) and print one JSON line per frame.

Input (stdin, or the files named): hex text, one frame per line, bytes optionally separated by
spaces; ``#`` starts a comment, blank lines are skipped (the layout of
``samples/mbus/libmbus-test-frames.hex``). Output (stdout), one line per frame::

    {"line": N, "id": "11490378", "manufacturer": "ACW", "medium": 22, "version": 14,
     "records": [{"value": ..., "value_shortest": ..., "unit": "m^3", "type": "VIFUnit.VOLUME",
                  "storage": 0, "tariff": null, "device": null,
                  "function": "FunctionType.INSTANTANEOUS_VALUE"}, ...]}
    {"line": N, "error": "MBusFrameDecodeError: Not a variable data long frame"}

``line`` is the 1-based line number in its input (as in ami-decode's diagnostics); when files are
named, each line also starts with ``"file": PATH``. ``id`` is the
identification number as its 8 BCD digits, ``manufacturer`` the FLAG code pyMeterBus decodes.

What pyMeterBus 0.8.5 returns, and how it is written here (checked in
meterbus/telegram_variable_data_record.py, ``parsed_value``):

* Integer and BCD data with a VIF multiplier > 1 come back as ``int`` -> JSON number.
* Everything else numeric comes back as ``decimal.Decimal(raw * multiplier)`` where the
  multiplication is done in **float** (the multiplier is ``pow(10.0, n)``; 32-bit reals are
  widened to a double first). So the Decimal is the *exact binary value of a double*, e.g.
  54321 x 0.001 -> ``Decimal('54.320999999999997953636921010911464691162109375')``. ``value``
  is ``str()`` of that Decimal, unchanged (no float formatting), so nothing is lost or added
  here; ``value_shortest`` is the shortest decimal that reads back as the same double, in plain
  notation without a trailing ``.0`` (``"54.321"``, ``"11490378"``): what to compare an exact
  decimal decoder against (it can still differ in the last digits where the float product
  itself was inexact, e.g. ``0.30000000000000004``).
  For ints, strings and null, ``value_shortest`` is absent.
* Dates (types G/F/I/J) are strings such as ``"2000-00-00"``, ``"2012-01-24T13:29"``;
  manufacturer-specific data and non-printable LVARs are spaced hex strings; ASCII LVARs are
  strings (pyMeterBus reverses their bytes, as the standard says).
* ``unit`` is pyMeterBus's MeasureUnit text (``"m^3"``, ``"C"``, ``"date"``, ``"none"``...) or,
  for plain-text VIFs, the custom unit text. ``type`` and ``function`` are its enum names;
  ``unit_enh`` (a VIFE enhancement) appears only when it reports one.
* For numeric values, ``encoding`` is the data coding pyMeterBus read from the DIF
  (``ENCODING_INTEGER``, ``ENCODING_BCD``, ``ENCODING_REAL``) and ``multiplier`` the ``repr`` of the
  float it multiplied the raw value by (``"0.001"``, ``"1e-06"``, ``"3600.0"``), so that a test
  can redo pyMeterBus's float arithmetic on another decoder's raw value and compare bit for bit.
* ``storage`` is DIF bit 6 plus the DIFE storage bits; ``tariff`` and ``device`` are null when
  the record has no DIFE (pyMeterBus does not compute them then).

pyMeterBus checks the checksum and length, and rejects fixed-data frames (CI 0x73); such frames
come out as ``error`` lines. The harness never stops on a bad frame. Exit status 0, or 2 for
bad usage.
"""
import argparse
import decimal
import json
import sys

import meterbus


def shortest(d):
    """The shortest decimal that reads back as the same double as ``d``, in plain notation, without
    a trailing ``.0``: Decimal('54.320999999999997953636921010911464691162109375') -> "54.321"."""
    text = format(decimal.Decimal(repr(float(d))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def record_json(rec):
    value = rec.value
    out = {}
    if isinstance(value, decimal.Decimal):
        out["value"] = str(value)
        out["value_shortest"] = shortest(value)
    elif isinstance(value, (bytes, bytearray)):
        out["value"] = value.hex(" ").upper()
    else:
        out["value"] = value
    info = rec.interpreted
    out["unit"] = rec.unit if rec.unit is None or isinstance(rec.unit, str) else str(rec.unit)
    out["type"] = info.get("type")
    out["storage"] = info.get("storage_number")
    out["tariff"] = info.get("tariff")
    out["device"] = info.get("device")
    out["function"] = info.get("function")
    if isinstance(value, (decimal.Decimal, int)) and not isinstance(value, bool):
        multiplier = rec._parse_vifx()[0]
        out["encoding"] = rec.dib.length_encoding[1].name
        out["multiplier"] = repr(float(multiplier))
    if "unit_enh" in info:
        out["unit_enh"] = info["unit_enh"]
    return out


def frame_json(frame, line):
    telegram = meterbus.load(frame)
    out = {"line": line}
    header = getattr(getattr(telegram, "body", None), "bodyHeader", None)
    if header is not None and not header.noDataHeader and header.id_nr_field.parts:
        out["id"] = "".join("%02x" % b for b in header.id_nr)
        out["manufacturer"] = header.manufacturer_field.decodeManufacturer
        out["version"] = header.version_field.parts[0]
        out["medium"] = header.measure_medium_field.parts[0]
    out["records"] = [record_json(r) for r in getattr(telegram, "records", [])]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="hex files (default: stdin)")
    args = parser.parse_args()
    write = sys.stdout.write
    for name in args.files or [None]:
        source = open(name, "r", encoding="latin-1", newline=None) if name else sys.stdin
        for n, text in enumerate(source, 1):
            text = text.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                frame = bytes.fromhex(text)
                out = frame_json(frame, n)
            except Exception as e:  # the peer's failure is data here, never a crash
                out = {"line": n, "error": "%s: %s" % (type(e).__name__, e)}
            if name:
                out = {"file": name, **out}
            write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
