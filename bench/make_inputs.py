#!/usr/bin/env python3
"""Writes benchmark inputs for bench/run (standard library only).

    make_inputs.py mbus SAMPLE.hex PREFIX N   -> PREFIX.hex (one frame per line, as in the sample,
                                                without comments) and PREFIX.bin (the frames back
                                                to back, a raw capture); frame i is sample frame
                                                i mod 47
    make_inputs.py mbus-names SAMPLE.hex OUT  -> the name of each sample frame (its '#' comment),
                                                one per line, in order
    make_inputs.py wmbus SAMPLE.txt KIND PREFIX N
                                             -> PREFIX.hex and PREFIX.bin as for mbus, from the
                                                frames of samples/wmbus/wmbus-frames.txt that
                                                every decoder reads alone: KIND plain (CI 0x7A
                                                and 0x78, formats A and without CRCs) or aes
                                                (security mode 5); PREFIX.names their names
    make_inputs.py dsmr OUT N FILE...         -> N P1 telegrams taken in turn from FILEs (each may
                                                hold several), concatenated, CR LF line ends kept
    make_inputs.py dlms CORPUS.jsonl PREFIX N -> from the complete APDUs of the DLMS corpus
                                                (../shared/corpus/dlms/frames.jsonl, in capture
                                                order), N bare APDUs a line as lowercase hex, the
                                                corpus repeated:
                                                PREFIX-plain.hex: every APDU, ciphered service
                                                  APDUs replaced by their plaintext (nothing to
                                                  decipher);
                                                PREFIX-ciphered.hex: the APDUs of the sessions that
                                                  cipher, as sent (general-glo- and glo- APDUs to
                                                  decipher with the corpus's test keys; their AARQ,
                                                  AARE and releases as they are)
    make_inputs.py sml OUT N FILE...          -> N SML transport frames taken in turn from FILEs
                                                (raw dumps), back to back
"""
import json
import re
import sys


def sample_frames(path):
    """(name, hex line) per frame of a libmbus-style hex file; a frame's name is the last '#'
    comment line before it."""
    frames, name = [], None
    with open(path, encoding="latin-1") as f:
        for line in f:
            text = line.strip()
            if text.startswith("#"):
                name = text.lstrip("#").strip()
                continue
            text = text.split("#", 1)[0].strip()
            if text:
                frames.append((name or "frame %d" % (len(frames) + 1), text))
    return frames


def write_repeated(path, items, n, sep=b""):
    """Writes items[i % len(items)] for i in 0..<n, in big blocks."""
    block = sep.join(items) + sep
    whole, rest = divmod(n, len(items))
    with open(path, "wb") as f:
        for _ in range(whole):
            f.write(block)
        if rest:
            f.write(sep.join(items[:rest]) + sep)


def telegrams(path):
    text = open(path, "rb").read()
    starts = [m.start() for m in re.finditer(rb"(?m)^/", text)]
    out = []
    for i, s in enumerate(starts):
        t = text[s:starts[i + 1] if i + 1 < len(starts) else len(text)].rstrip(b"\r\n") + b"\r\n"
        out.append(t)
    return out


# Tags of ciphered xDLMS service APDUs: glo- (0xC8-0xCF), general-glo- and general-ded-ciphering.
CIPHERED_SERVICE_TAGS = set(range(0xC8, 0xD0)) | {0xDB, 0xDC}


def dlms_apdus(path):
    """(plain, ciphered) APDU hex lists from the corpus: see the docstring."""
    records = [json.loads(line) for line in open(path) if line.strip()]
    ciphering = {r["session"] for r in records if r.get("ciphered")}
    plain, ciphered = [], []
    for r in records:
        pdu = r.get("pdu_hex")
        if not pdu:
            continue
        wire = pdu.lower()
        is_service = int(wire[:2], 16) in CIPHERED_SERVICE_TAGS
        if is_service and not r.get("plain_pdu_hex"):
            sys.exit("make_inputs: %s seq %s: a ciphered APDU without its plaintext" % (r["session"], r["seq"]))
        plain.append(r["plain_pdu_hex"].lower() if is_service else wire)
        if r["session"] in ciphering:
            ciphered.append(wire)
    return plain, ciphered


def main(argv):
    if len(argv) >= 5 and argv[1] == "mbus":
        frames = sample_frames(argv[2])
        n = int(argv[4])
        hex_lines = [h.encode() for _, h in frames]
        write_repeated(argv[3] + ".hex", hex_lines, n, b"\n")
        write_repeated(argv[3] + ".bin", [bytes.fromhex(h) for _, h in frames], n)
        return 0
    if len(argv) >= 6 and argv[1] == "wmbus":
        frames, name = [], None
        with open(argv[2]) as f:
            for line in f:
                text = line.strip()
                if text.startswith("#"):
                    name = text.lstrip("#").strip()
                    continue
                text = text.rsplit(";0x", 1)[-1].replace("telegram=|", "").replace("|", "").replace("_", "")
                data = bytes.fromhex(text)
                ci = data[10] if data[0] + 1 == len(data) else data[12]
                aes = ci == 0x7A and data[14] & 0x1F == 5
                if (argv[3] == "aes") == aes and ci in (0x7A, 0x78):
                    frames.append((name, data))
        write_repeated(argv[4] + ".hex", [d.hex().upper().encode() for _, d in frames], int(argv[5]), b"\n")
        write_repeated(argv[4] + ".bin", [d for _, d in frames], int(argv[5]))
        with open(argv[4] + ".names", "w") as f:
            f.writelines("%s\n" % n for n, _ in frames)
        return 0
    if len(argv) == 4 and argv[1] == "mbus-names":
        with open(argv[3], "w") as f:
            f.writelines(name + "\n" for name, _ in sample_frames(argv[2]))
        return 0
    if len(argv) >= 5 and argv[1] == "dsmr":
        items = [t for path in argv[4:] for t in telegrams(path)]
        if not items:
            sys.exit("make_inputs: no telegrams in %s" % " ".join(argv[4:]))
        write_repeated(argv[2], items, int(argv[3]))
        return 0
    if len(argv) == 5 and argv[1] == "dlms":
        plain, ciphered = dlms_apdus(argv[2])
        n = int(argv[4])
        write_repeated(argv[3] + "-plain.hex", [a.encode() for a in plain], n, b"\n")
        write_repeated(argv[3] + "-ciphered.hex", [a.encode() for a in ciphered], n, b"\n")
        return 0
    if len(argv) >= 5 and argv[1] == "sml":
        items = [f for path in argv[4:] for f in sml_frames(path)]
        if not items:
            sys.exit("make_inputs: no SML frames in %s" % " ".join(argv[4:]))
        write_repeated(argv[2], items, int(argv[3]))
        return 0
    sys.exit(__doc__)


def sml_frames(path):
    """The whole transport frames of a dump: from a start sequence to the end sequence with its
    padding count and CRC (escapes and end sequences sit on 4-byte blocks from the start)."""
    data = open(path, "rb").read()
    start_seq, esc = b"\x1b\x1b\x1b\x1b\x01\x01\x01\x01", b"\x1b\x1b\x1b\x1b"
    frames, i = [], data.find(start_seq)
    while i >= 0:
        p = i + 8
        while p + 8 <= len(data) and not (data[p:p + 4] == esc and data[p + 4] == 0x1A):
            p += 8 if data[p:p + 8] == esc * 2 else 4
        if p + 8 > len(data):
            break
        frames.append(data[i:p + 8])
        i = data.find(start_seq, p + 8)
    return frames


if __name__ == "__main__":
    sys.exit(main(sys.argv))
