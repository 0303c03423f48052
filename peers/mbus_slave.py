#!/usr/bin/env python3
"""Wired M-Bus slaves (EN 13757-2 link layer, EN 13757-3 addressing) on a serial line or a TCP
port, for testing masters such as ``ami-read mbus`` and pyMeterBus. Written for this project.

    mbus_slave.py (--serial DEVICE | --tcp-port N) [--ready-file FILE] [--echo] [--max-seconds S]
                  --slave SPEC [--slave SPEC ...]
    mbus_slave.py --print-expected --slave SPEC [...]

The line (one end of a socat pty pair, or each TCP connection in turn, as a gateway) is one bus:
every frame the master sends goes to every slave, and the answers of several slaves at once are
combined as on a real bus, bit by bit on the line (8E1 characters), where a space (0 bit) from any
slave wins, and read back as a UART would. Identical answers of slaves with the same ``delay``
merge into one; anything else comes out garbled (a collision).

SPEC is comma-separated ``key=value`` (or a bare ``silent``):

* ``primary=N``: primary address 0-250 (default: none, reachable by secondary address only);
* ``id=NNNNNNNN``: identification number, 8 BCD digits (default 00000000);
* ``man=ABC``: manufacturer (FLAG letters, default ``AMI``); ``version=N`` (default 1);
  ``medium=N`` (device type, default 7 water);
* ``telegrams=N``: a multi-telegram answer of N telegrams, each but the last ending with DIF 0x1F;
* ``frame=HEX``: answer REQ_UD2 with this RSP_UD (a real meter's frame); its long header gives the
  secondary address, its A field is set to ``primary``;
* ``delay=BITS``: the slave starts its answers this many bit times later than a slave with 0
  (default 0), so that its answers overlap others' off the character boundaries;
* ``silent``: never answers anything.

Each slave follows the link layer: SND_NKE (C 0x40) to its primary address, to 254, or to 253
while selected resets its link (FCB cleared; to 253 it also drops the selection) and is
acknowledged with ``E5``; to 255 it resets every slave silently. REQ_UD2 (C 0x5B/0x7B) answers
RSP_UD (C 0x08): a toggled FCB (or the first request after a reset) moves to the next telegram,
the same FCB repeats the last one. SND_UD (C 0x53/0x73) to 253 with CI 0x52 and 8 address bytes
selects the slave when they match its secondary address (ID digits F, manufacturer FFFF, version
and medium FF are wildcards) and deselects it otherwise; CI 0x51 with DIF 0x04 VIF 0x6D (type F)
sets its clock; CI 0x50 (application reset) is acknowledged.

Telegram k (0-based) of a built slave holds: k = 0: fabrication number (0C 78, the ID), volume
(04 13, litres), the slave's clock (04 6D, type F, read as UTC), flow temperature (02 5A, 0.1 C);
k >= 1: the historic volumes of storage numbers 2k-1 and 2k. ``--print-expected`` prints, per
slave, its meter identity, primary address, telegrams (hex, clock at 2026-01-01T00:00) and the
volume readings a decoder must find (``storage``, ``value`` in m3 as an exact decimal string).

``--echo`` writes every byte the master sends back before any answer (a level converter that
echoes). ``--ready-file`` is written (the TCP port, or ``ready``) once the line is open.
"""
import argparse
import datetime
import json
import os
import select
import socket
import sys
import termios
import time
import tty

CLOCK_START = datetime.datetime(2026, 1, 1, 0, 0)


def checksum(data):
    return sum(data) & 0xFF


def long_frame(c, a, ci, data):
    body = bytes([c, a, ci]) + bytes(data)
    return bytes([0x68, len(body), len(body), 0x68]) + body + bytes([checksum(body), 0x16])


def manufacturer_code(letters):
    code = 0
    for ch in letters:
        code = (code << 5) | (ord(ch) - 64)
    return code


def bcd(number, digits):
    """``number`` as BCD, least significant byte first."""
    text = "%0*d" % (digits, number)
    return bytes(int(text[i:i + 2], 16) for i in range(len(text) - 2, -1, -2))


def exact(raw, exponent):
    """An exact decimal string of raw * 10**exponent (exponent <= 0), without trailing zeros."""
    sign = "-" if raw < 0 else ""
    digits = str(abs(raw)).rjust(-exponent + 1, "0")
    text = digits[:len(digits) + exponent] + "." + digits[len(digits) + exponent:] if exponent else digits
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return sign + text


def type_f(moment):
    yy = moment.year % 100
    century = (moment.year - 1900) // 100
    return bytes([moment.minute, moment.hour | (century << 5),
                  moment.day | ((yy & 0x07) << 5), moment.month | ((yy >> 3) << 4)])


def parse_type_f(b):
    yy = (b[2] >> 5) | ((b[3] & 0xF0) >> 1)
    century = (b[1] >> 5) & 0x03
    year = 1900 + 100 * century + yy if century else (2000 + yy if yy <= 80 else 1900 + yy)
    return datetime.datetime(year, b[3] & 0x0F, b[2] & 0x1F, b[1] & 0x1F, b[0] & 0x3F)


def storage_dib(storage):
    """DIF (4-byte integer) and DIFEs of a storage number."""
    dif = 0x04 | ((storage & 1) << 6)
    rest = storage >> 1
    difes = []
    while rest:
        difes.append(rest & 0x0F)
        rest >>= 4
    if difes:
        dif |= 0x80
        for i in range(len(difes) - 1):
            difes[i] |= 0x80
    return bytes([dif] + difes)


class Slave:
    def __init__(self, spec):
        self.primary = None
        self.id = 0
        self.man = "AMI"
        self.version = 1
        self.medium = 7
        self.count = 1
        self.frame = None
        self.silent = False
        self.delay = 0
        for item in spec.split(","):
            key, _, value = item.partition("=")
            if key == "primary":
                self.primary = int(value)
            elif key == "id":
                self.id = int(value)
            elif key == "man":
                self.man = value.upper()
            elif key == "version":
                self.version = int(value, 0)
            elif key == "medium":
                self.medium = int(value, 0)
            elif key == "telegrams":
                self.count = int(value)
            elif key == "frame":
                self.frame = bytes.fromhex(value)
            elif key == "delay":
                self.delay = int(value)
            elif key == "silent":
                self.silent = True
            else:
                raise SystemExit("mbus_slave.py: unknown slave key %r" % key)
        if self.frame is not None:
            self.address = self.frame[7:15]
        else:
            code = manufacturer_code(self.man)
            self.address = bcd(self.id, 8) + bytes([code & 0xFF, code >> 8, self.version, self.medium])
        self.base = self.id % 100000 * 10 + 123
        self.clock_set = (CLOCK_START, time.monotonic())
        self.reset()
        self.selected = False

    def reset(self):
        self.last_fcb = 0
        self.current = None

    # -- what it sends

    def clock(self):
        value, since = self.clock_set
        return value + datetime.timedelta(seconds=time.monotonic() - since)

    def volume(self, storage):
        return self.base - 7 * storage

    def telegram(self, k, clock):
        if self.frame is not None:
            f = bytearray(self.frame)
            f[5] = self.primary if self.primary is not None else 0
            f[-2] = checksum(f[4:-2])
            return bytes(f)
        records = bytearray()
        if k == 0:
            records += bytes([0x0C, 0x78]) + bcd(self.id, 8)
            records += bytes([0x04, 0x13]) + self.volume(0).to_bytes(4, "little")
            records += bytes([0x04, 0x6D]) + type_f(clock)
            records += bytes([0x02, 0x5A]) + (215).to_bytes(2, "little")
        else:
            for storage in (2 * k - 1, 2 * k):
                records += storage_dib(storage) + bytes([0x13]) + self.volume(storage).to_bytes(4, "little")
        if k < self.count - 1:
            records.append(0x1F)
        header = self.address + bytes([k & 0xFF, 0x00, 0x00, 0x00])
        return long_frame(0x08, self.primary if self.primary is not None else 0, 0x72, header + records)

    def expected(self):
        code = int.from_bytes(self.address[4:6], "little")
        letters = "".join(chr(64 + ((code >> s) & 0x1F)) for s in (10, 5, 0))
        ident = "%s-%s-%02X-%02X" % (letters, self.address[3::-1].hex().upper(), self.address[6], self.address[7])
        out = {"meter": ident, "primary": self.primary,
               "telegrams": [self.telegram(k, CLOCK_START).hex() for k in range(self.count)]}
        if self.frame is None:
            storages = [0] + list(range(1, 2 * self.count - 1))
            out["volumes"] = [{"storage": s, "value": exact(self.volume(s), -3)} for s in storages]
        return out

    # -- what it hears

    def matches(self, mask):
        for i in range(4):
            for shift in (4, 0):
                m = (mask[i] >> shift) & 0x0F
                if m != 0x0F and m != (self.address[i] >> shift) & 0x0F:
                    return False
        if mask[4:6] != b"\xff\xff" and mask[4:6] != self.address[4:6]:
            return False
        return all(mask[k] == 0xFF or mask[k] == self.address[k] for k in (6, 7))

    def addressed(self, a):
        return a == self.primary or a == 254 or (a == 253 and self.selected)

    def hear(self, frame):
        """The answer to one intact frame from the master, or None."""
        if self.silent:
            return None
        if frame[0] == 0x10:
            c, a = frame[1], frame[2]
            if c & 0x4F == 0x40:
                if a == 255:
                    self.reset()
                    return None
                if self.addressed(a):
                    self.reset()
                    if a == 253:
                        self.selected = False
                    return b"\xe5"
                return None
            if c & 0x4F == 0x4B and self.addressed(a):
                fcb = (c >> 5) & 1
                fcv = (c >> 4) & 1
                if self.current is None:
                    self.current = 0
                elif fcv and fcb != self.last_fcb:
                    self.current = (self.current + 1) % self.count
                if fcv:
                    self.last_fcb = fcb
                return self.telegram(self.current, self.clock())
            return None
        c, a, ci, data = frame[4], frame[5], frame[6], frame[7:-2]
        if c & 0x4F != 0x43:
            return None
        if a == 253 and ci == 0x52 and len(data) == 8:
            self.selected = self.matches(data)
            return b"\xe5" if self.selected else None
        if not self.addressed(a):
            return None
        if ci == 0x51 and len(data) >= 6 and data[0] == 0x04 and data[1] == 0x6D:
            self.clock_set = (parse_type_f(data[2:6]), time.monotonic())
            return b"\xe5"
        if ci == 0x50:
            return b"\xe5"
        return None


def split_frames(buffer):
    """Intact master frames at the front of ``buffer``, and what is left (an unfinished frame)."""
    frames = []
    while buffer:
        if buffer[0] == 0x10:
            if len(buffer) < 5:
                break
            f = buffer[:5]
            if f[4] == 0x16 and checksum(f[1:3]) == f[3]:
                frames.append(bytes(f))
                buffer = buffer[5:]
                continue
        elif buffer[0] == 0x68:
            if len(buffer) < 4:
                break
            n = buffer[1] + 6
            if buffer[1] == buffer[2] and buffer[3] == 0x68 and buffer[1] >= 3:
                if len(buffer) < n:
                    break
                f = buffer[:n]
                if f[-1] == 0x16 and checksum(f[4:-2]) == f[-2]:
                    frames.append(bytes(f))
                    buffer = buffer[n:]
                    continue
        buffer = buffer[1:]
    return frames, buffer


def bits(answer, delay):
    """The line levels of ``answer`` sent 8E1 after ``delay`` idle bit times: 1 mark (idle),
    0 space; per byte a start bit, 8 data bits (least significant first), even parity, stop."""
    out = [1] * delay
    for byte in answer:
        data = [(byte >> i) & 1 for i in range(8)]
        out += [0] + data + [sum(data) & 1, 1]
    return out


def uart(levels):
    """The bytes a receiver reads from line levels: each start bit (a 0 after idle or a stop bit)
    starts a character; its data bits are taken as they are, whatever its parity and stop bit."""
    out = bytearray()
    i = 0
    while i < len(levels):
        if levels[i] == 1:
            i += 1
            continue
        data = levels[i + 1:i + 9] + [1] * max(0, 9 - len(levels[i + 1:i + 9]))
        out.append(sum(b << k for k, b in enumerate(data[:8])))
        i += 11
    return bytes(out)


def combine(answers):
    """What the master hears when slaves answer at once, each after its own delay in bit times:
    a space (0) from any slave wins. Equal answers at the same delay are one answer; at different
    delays, or different answers, the characters overlap and come out garbled."""
    if len(answers) == 1:
        return answers[0][1]
    lines = [bits(a, d) for d, a in answers]
    n = max(len(x) for x in lines)
    return uart([min(x[i] if i < len(x) else 1 for x in lines) for i in range(n)])


class Bus:
    def __init__(self, slaves, echo):
        self.slaves = slaves
        self.echo = echo
        self.buffer = b""

    def serve(self, read, write, stop):
        """Answers the master until ``read`` reports the end or ``stop()`` is true."""
        while not stop():
            data = read()
            if data is None:
                continue
            if data == b"":
                return
            if self.echo:
                write(data)
            frames, self.buffer = split_frames(self.buffer + data)
            for f in frames:
                answers = [(s.delay, a) for s, a in ((s, s.hear(f)) for s in self.slaves) if a is not None]
                if answers:
                    write(combine(answers))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serial", help="device to serve (one end of a pty pair)")
    parser.add_argument("--tcp-port", type=int, help="serve TCP connections on 127.0.0.1 (0: any free port)")
    parser.add_argument("--slave", action="append", default=[], help="a slave (see above)")
    parser.add_argument("--echo", action="store_true", help="echo what the master sends")
    parser.add_argument("--ready-file", help="written once the line is open")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop after this long")
    parser.add_argument("--print-expected", action="store_true", help="print what a master must read")
    args = parser.parse_args()
    slaves = [Slave(s) for s in args.slave]
    if args.print_expected:
        print(json.dumps({"slaves": [s.expected() for s in slaves]}))
        return 0
    bus = Bus(slaves, args.echo)
    end = time.monotonic() + args.max_seconds

    def stop():
        return time.monotonic() > end

    def ready(text):
        if args.ready_file:
            with open(args.ready_file + ".tmp", "w") as f:
                f.write(text)
            os.rename(args.ready_file + ".tmp", args.ready_file)

    if args.serial:
        fd = os.open(args.serial, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd, termios.TCSANOW)
        ready("ready")

        def read():
            r, _, _ = select.select([fd], [], [], 0.2)
            return os.read(fd, 512) if r else None

        bus.serve(read, lambda b: os.write(fd, b), stop)
        return 0
    if args.tcp_port is None:
        parser.error("give --serial DEVICE or --tcp-port N")
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.tcp_port))
    server.listen(8)
    ready(str(server.getsockname()[1]))
    while not stop():
        r, _, _ = select.select([server], [], [], 0.2)
        if not r:
            continue
        conn, _ = server.accept()
        with conn:
            def read():
                r, _, _ = select.select([conn], [], [], 0.2)
                try:
                    return conn.recv(512) if r else None
                except ConnectionError:
                    return b""

            bus.serve(read, conn.sendall, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
