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
"""
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
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
