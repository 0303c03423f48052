#!/usr/bin/env python3
"""Builds a throw-away seed corpus per fuzz target (used by fuzz/run; standard library only).

    fuzz/make_seeds.py OUTDIR [--corpus DIR] [TARGET...]

Writes OUTDIR/<target>/<sha1> files, one input each (duplicates collapse), from:

* the shared corpus (``../shared/corpus`` unless --corpus says otherwise), if present:
  mbus: the libmbus ``.hex`` files as binary; dsmr: the ``.txt`` telegrams; iec62056-21: the
  ``.bin`` readouts; hex: the ``.hex`` files as they are plus the DSMR/IEC files written as hex;
  jsonl: ``{"type":"frame","v":1,"hex":...,"protocol":...}`` lines made from all of these;
  dlms: the raw frames of each ``dlms/frames.jsonl`` session, back to back and alone;
  dlms-apdu: every ``pdu_hex`` and ``plain_pdu_hex`` of ``dlms/frames.jsonl``; axdr: the data of
  its plain GET responses (normal, with data); sml: the ``sml`` frames and raw dumps (``.bin``);
  nem12 and csv: the ``formats/nem12`` files;
  espi: the ``formats/green-button-espi`` XML; table and csv: JSON lines and CSV written here;
  urdb: the ``formats/urdb`` rate records;
  xlsx: a workbook written here (``zipfile``); records: the stream and the DLMS samples' lines;
  tariff: ``samples/tariffs`` and a prepaid tariff written here; registry-csv and registry-jsonl:
  meter and node rows written here; account-csv and account-jsonl: accounts on the target's meters
  M1 and M2 and tariffs flat and credit, written here;
  wmbus: the telegrams of
  ``wmbus/wmbusmeters-cases.jsonl`` (without CRCs, and in format A), alone and back to back;
* for wmbus and hex, ``samples/wmbus/wmbus-frames.txt`` (hex lines and receiver lines);
* for wmbus, ``WMBUS_MORE``: the unit tests' frames for paths the samples lack (an Apator NA-1,
  security mode 2, frames cut short after and inside the enciphered blocks);
* the shipped ``samples/`` (always); for modbus, the ``samples/modbus`` sessions as length-prefixed
  frames (TCP or RTU, directions given or inferred), for modbus-profile its profile files;
* regression inputs committed in ``fuzz/crashes/<target>/`` (always, every file but dotfiles).

Prints one line per target, ``TARGET COUNT (where from)``, and a note on stderr when the shared
corpus is missing. The corpus is read, never copied into the repository.
"""
import argparse
import hashlib
import json
import os
import sys
import zipfile

TARGETS = ["mbus", "dsmr", "iec62056-21", "hex", "jsonl", "axdr", "dlms-apdu", "dlms", "wmbus", "sml", "nem12", "csv",
           "espi", "table", "modbus", "modbus-profile", "xlsx", "records", "tariff", "urdb", "registry-csv",
           "registry-jsonl", "account-csv", "account-jsonl"]
HEX = set("0123456789abcdefABCDEF")
# Tests/AMICoreTests/WMBusTests.swift (WMBusVectors): apatorNA1, mode2, cutAfterBlocks, cutInBlocks;
# the wmbus target has their keys.
WMBUS_MORE = [
    "1C440106785634121407A02A01A1C059E6EB962651A43469379A3E8A4F",
    "1E442D2C2143658701077A2A001002FC69FBF4F96CC147D29EB0B2AFC6A16F",
    "21442D2C7856341201077A2A00100579D6C99DDC63748D24CDC4400CA76957021334",
    "23442D2C7856341201077A2A00200579D6C99DDC63748D24CDC4400CA76957D1DBAC116E",
]


def hex_to_bytes(text):
    """libmbus's reading of a .hex file: pairs of hex digits; other tokens (such as the lone
    ``D`` in manual_frame1.hex) are skipped."""
    out = bytearray()
    for token in text.split():
        if len(token) % 2 == 0 and all(c in HEX for c in token):
            out += bytes.fromhex(token)
    return bytes(out)


def files(folder, suffix):
    if not os.path.isdir(folder):
        return []
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.join(root, n) for n in names if n.endswith(suffix)]
    return sorted(found)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def crc_en13757(data):
    """The block CRC of EN 13757-4 (polynomial 0x3D65, complemented)."""
    c = 0
    for b in data:
        c ^= b << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x3D65) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
    return c ^ 0xFFFF


def format_a(frame):
    """A wM-Bus frame without CRCs in format A: each block followed by its CRC."""
    blocks = [frame[:10]] + [frame[i:i + 16] for i in range(10, len(frame), 16)]
    return b"".join(b + crc_en13757(b).to_bytes(2, "big") for b in blocks)


def frame_line(data, protocol, extra=None):
    record = {"type": "frame", "v": 1}
    record.update(extra or {})
    record["hex"] = data.hex().upper()
    record["protocol"] = protocol
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


PREPAID = (b'{"tariff": "credit", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "Europe/Amsterdam",\n'
           b' "prices": [{"from": "2026-01-01", "energy": "0.20", "fixed": [{"name": "standing", "per": "day", "price": "1.00"}]}],\n'
           b' "prepaid": {"warn": "5.00", "emergency_credit": "3.00", "debt_recovery": "0.25",\n'
           b'             "friendly": [{"days": ["weekend", "holiday"]}, {"days": ["weekday"], "hours": [["18:00", "08:00"]]}]}}\n')


def xlsx_workbook():
    """A small XLSX workbook (one sheet of readings: a header row, shared and inline strings, numbers)."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '</Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="reading" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '</Relationships>',
        "xl/sharedStrings.xml": '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<si><t>meter</t></si><si><t>value</t></si><si><r><t>M</t></r><r><t>1</t></r></si></sst>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>time</t></is></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>1.5</v></c><c r="C2" t="str"><v>2026-01-05T00:15:00Z</v></c></row>'
        '<row r="4"><c r="B4" t="b"><v>1</v></c><c r="D4"><v>-3E-2</v></c></row></sheetData></worksheet>',
    }
    import io
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description="Build fuzz seed corpora.")
    parser.add_argument("outdir")
    parser.add_argument("--corpus", default=os.path.join(os.path.dirname(root), "shared", "corpus"))
    parser.add_argument("targets", nargs="*", default=TARGETS)
    args = parser.parse_intermixed_args()
    for t in args.targets:
        if t not in TARGETS:
            parser.error("unknown target %s (%s)" % (t, ", ".join(TARGETS)))

    corpus = args.corpus if os.path.isdir(args.corpus) else None
    if corpus is None:
        print("make_seeds: no shared corpus at %s; seeding from samples/ and fuzz/crashes/ only"
              % args.corpus, file=sys.stderr)
    samples = os.path.join(root, "samples")

    # Frames by protocol, from the corpus and the samples: (bytes, where).
    mbus, dsmr, iec, hex_texts = [], [], [], []
    sample_hex = os.path.join(samples, "mbus", "libmbus-test-frames.hex")
    if os.path.exists(sample_hex):
        text = read(sample_hex)
        hex_texts.append((text, "samples"))
        for line in text.decode("latin-1").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                mbus.append((hex_to_bytes(line), "samples"))
    dsmr += [(read(p), "samples") for p in files(os.path.join(samples, "dsmr"), ".txt")]
    iec += [(read(p), "samples") for p in files(os.path.join(samples, "iec62056-21"), ".bin")]
    if corpus:
        for p in files(os.path.join(corpus, "mbus"), ".hex"):
            text = read(p)
            hex_texts.append((text, "corpus"))
            mbus.append((hex_to_bytes(text.decode("latin-1")), "corpus"))
        dsmr += [(read(p), "corpus") for p in files(os.path.join(corpus, "dsmr"), ".txt")]
        iec += [(read(p), "corpus") for p in files(os.path.join(corpus, "iec62056-21"), ".bin")]

    apdus = []
    sessions = {}
    dlms_frames = os.path.join(corpus, "dlms", "frames.jsonl") if corpus else None
    if dlms_frames and os.path.exists(dlms_frames):
        with open(dlms_frames) as f:
            for line in f:
                record = json.loads(line)
                apdus += [(bytes.fromhex(record[k]), "corpus") for k in ("pdu_hex", "plain_pdu_hex") if record.get(k)]
                sessions.setdefault(record["session"], []).append(bytes.fromhex(record["hex"]))

    wmbus = []
    sample_wmbus = os.path.join(samples, "wmbus", "wmbus-frames.txt")
    if os.path.exists(sample_wmbus):
        text = read(sample_wmbus)
        hex_texts.append((text, "samples"))
        for line in text.decode("latin-1").splitlines():
            line = line.strip()
            if line.startswith("#") or not line:
                continue
            line = line.rsplit(";0x", 1)[-1].replace("telegram=|", "").replace("|", "").replace("_", "")
            wmbus.append((bytes.fromhex(line), "samples"))
    wmbus += [(bytes.fromhex(f), "samples") for f in WMBUS_MORE]
    wmbus_cases = os.path.join(corpus, "wmbus", "wmbusmeters-cases.jsonl") if corpus else None
    if wmbus_cases and os.path.exists(wmbus_cases):
        with open(wmbus_cases) as f:
            for line in f:
                record = json.loads(line)
                if record.get("frame") == "wireless":
                    wmbus += [(bytes.fromhex(t), "corpus") for t in record["telegrams"]]

    seeds = {t: [] for t in TARGETS}
    seeds["wmbus"] = list(wmbus) + [(format_a(f), where) for f, where in wmbus if f and f[0] + 1 == len(f)]
    seeds["wmbus"].append((b"".join(f for f, _ in wmbus[:8]), "samples"))
    seeds["dlms-apdu"] = list(apdus)
    # Each session's frames back to back (both directions), and each frame alone.
    seeds["dlms"] = [(b"".join(frames), "corpus") for frames in sessions.values()]
    seeds["dlms"] += [(f, "corpus") for frames in sessions.values() for f in frames[:6]]
    # GET-Response-Normal with data: C4 01 invoke-id 00 Data.
    seeds["axdr"] = [(a[4:], where) for a, where in apdus if a[:2] == b"\xc4\x01" and a[3:4] == b"\x00"]
    seeds["mbus"] = list(mbus)
    # One stream of several frames back to back, as a real capture would have them.
    seeds["mbus"].append((b"".join(f for f, _ in mbus[:8]), "samples"))
    seeds["dsmr"] = list(dsmr)
    seeds["iec62056-21"] = list(iec)
    sml = [(read(p), "samples") for p in files(os.path.join(samples, "sml"), ".bin")]
    if corpus:
        sml += [(read(p), "corpus") for p in files(os.path.join(corpus, "sml"), ".bin")]
    seeds["sml"] = sml
    seeds["hex"] = list(hex_texts)
    seeds["hex"] += [(data.hex().upper().encode() + b"\n", where) for data, where in dsmr + iec]
    seeds["hex"] += [(data.hex().upper().encode() + b"\n", where) for data, where in sml[:20]]
    for protocol, frames in (("mbus", mbus), ("dsmr", dsmr), ("iec62056-21", iec), ("sml", sml[:20])):
        seeds["jsonl"] += [(frame_line(data, protocol), where) for data, where in frames]
    if mbus:
        first = mbus[0][0]
        seeds["jsonl"].append((
            frame_line(first, "mbus", {"time": "2024-03-31T01:59:59Z", "source": "fuzz", "meter": "m1"})
            + frame_line(first, "mbus", {"dir": "tx"})
            + b'{"type":"note","v":1,"text":"passed through"}\n'
            + frame_line(mbus[-1][0], "mbus"), "samples"))

    # Modbus: the sessions of samples/modbus as the modbus target's input (a flags byte, then each
    # frame after its length), their frame records for jsonl, and the profile files.
    for path in files(os.path.join(samples, "modbus"), ".jsonl"):
        lines = read(path).splitlines(keepends=True)
        frames = [bytes.fromhex(json.loads(l)["hex"]) for l in lines if l.strip()]
        flags = 1 if b'"source":"serial:' in lines[0] else 0
        for directions in (0, 2):
            seeds["modbus"].append((bytes([flags | directions]) + b"".join(bytes([len(f)]) + f for f in frames), "samples"))
        seeds["jsonl"].append((b"".join(lines), "samples"))
    seeds["modbus-profile"] = [(read(p), "samples") for p in files(os.path.join(samples, "modbus"), ".json")]

    # ami-export's readers: the format samples of the corpus, and a small stream of every record type.
    if corpus:
        seeds["nem12"] = [(read(p), "corpus") for p in files(os.path.join(corpus, "formats", "nem12"), ".csv")]
        seeds["espi"] = [(read(p), "corpus") for p in files(os.path.join(corpus, "formats", "green-button-espi"), ".xml")]
    stream = (b'{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1.5,"unit":"Wh",'
              b'"time":"2026-01-05T00:15:00Z","interval":900,"quality":["3.8.0"],"protocol":"dsmr","source":"s","frame":0}\n'
              b'{"type":"event","v":1,"meter":"M","event":"tamper","text":"a, \\"b\\"","protocol":"dlms","source":"s","frame":1}\n'
              b'{"type":"bill","v":1,"total":{"minor":100},"lines":[1,2],"paid":false,"note":null}\n')
    seeds["table"] = [(stream, "samples")]
    seeds["csv"] = [(b'type,v,meter,quantity,value,unit,time,protocol,source,frame\r\n'
                     b'reading,1,M,energy,1.5,Wh,2026-01-05T00:15:00Z,dsmr,s,0\r\n'
                     b'bill,1,"a,""b""",x,[1,2],,,,,\r\n', "samples")] + seeds["nem12"]

    seeds["xlsx"] = [(xlsx_workbook(), "samples")]
    seeds["records"] = [(stream, "samples")] + [(read(p), "samples") for p in files(os.path.join(samples, "dlms"), ".jsonl")]
    seeds["tariff"] = [(read(p), "samples") for p in files(os.path.join(samples, "tariffs"), ".json")] + [(PREPAID, "samples")]
    if corpus:
        seeds["urdb"] = [(read(p), "corpus") for p in files(os.path.join(corpus, "formats", "urdb"), ".json")]
    seeds["registry-csv"] = [(b"path,level\nACME,company\nACME/North,region\n", "samples"),
                             (b"meter,protocol,address,medium,multiplier,installed,removed,status,node,replaces\n"
                              b"M1,mbus,5,water,1,2020-01-01T00:00:00Z,,active,,\n"
                              b"M2,dlms,,electricity,0.5,2020-01-01T00:00:00Z,2021-01-01T00:00:00Z,removed,,M1\n", "samples")]
    seeds["registry-jsonl"] = [(b'{"type":"node","v":1,"path":"ACME","level":"company"}\n'
                                b'{"type":"node","v":1,"path":"ACME/North","level":"region"}\n'
                                b'{"type":"meter","v":1,"meter":"M1","protocol":"mbus","multiplier":2.5,"status":"active",'
                                b'"node":"ACME/North","installed":"2020-01-01T00:00:00Z"}\n'
                                b'{"type":"meter","v":1,"meter":"M2","replaces":"M1"}\n', "samples")]

    seeds["account-csv"] = [(b"account,meter,tariff,mode,contact,opened,debt\n"
                             b"A1,M1,flat,postpaid,,2026-06-01T00:00:00Z,\n"
                             b'P1,M2,credit,prepaid,"p1@example.org",2026-06-01T00:00:00Z,4000\n', "samples")]
    seeds["account-jsonl"] = [(b'{"type":"account","v":1,"account":"A1","meter":"M1","tariff":"flat"}\n'
                               b'{"type":"account","v":1,"account":"P1","meter":"M2","tariff":"credit","mode":"prepaid",'
                               b'"contact":"p1@example.org","opened":"2026-06-01T00:00:00Z","debt":4000}\n', "samples")]

    for t in args.targets:
        crashes = os.path.join(root, "fuzz", "crashes", t)
        if os.path.isdir(crashes):
            seeds[t] += [(read(os.path.join(crashes, n)), "crashes") for n in sorted(os.listdir(crashes))
                         if not n.startswith(".") and os.path.isfile(os.path.join(crashes, n))]
        out = os.path.join(args.outdir, t)
        os.makedirs(out, exist_ok=True)
        written = set()
        origin = {}
        for data, where in seeds[t]:
            name = hashlib.sha1(data).hexdigest()
            if name in written:
                continue
            written.add(name)
            origin[where] = origin.get(where, 0) + 1
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
        print("%s %d (%s)" % (t, len(written), ", ".join("%s %d" % kv for kv in sorted(origin.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
