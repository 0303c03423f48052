#!/usr/bin/env python3
"""Read a wired M-Bus slave with pyMeterBus (module ``meterbus``) as the master, over a serial
device (pyserial, 2400 baud 8E1) or a TCP gateway (pyserial's ``socket://`` URL), and print one
JSON line per telegram in the form of ``mbus_pymeterbus.py`` (``id``, ``manufacturer``,
``records``), with the telegram's ``hex``. A master nobody on this project wrote, to check
``peers/mbus_slave.py`` against.

    mbus_pymeterbus_master.py (--serial DEVICE [--parity E|N] | --tcp HOST:PORT) [--echo] [--timeout S]
                              (--address N | --secondary IIIIIIIIMMMMVVMM) [--telegrams N]

With ``--address``: SND_NKE (``meterbus.send_ping_frame``), then REQ_UD2 with the FCB set
(``send_request_frame_multi``, C 0x7B) and, for further telegrams, alternately without and with
it (``send_request_frame``, C 0x5B). With ``--secondary`` (libmbus's 16 hex digits, F for any
digit): ``send_select_frame``, then REQ_UD2 to address 253 the same way. Frames are read with
``meterbus.recv_frame`` and parsed with ``meterbus.load``. ``--echo`` passes pyMeterBus's
``read_echo``. A missing or bad answer prints ``{"error": ...}`` and exits 1.
"""
import argparse
import json
import os
import sys

import meterbus
import serial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mbus_pymeterbus import frame_json  # noqa: E402


def answer(ser, what):
    data = meterbus.recv_frame(ser, 1)
    if not data:
        raise RuntimeError("%s: %s" % (what, "no answer" if data is None else "bad frame"))
    return bytes(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serial")
    parser.add_argument("--tcp")
    parser.add_argument("--parity", default="E", choices=["E", "N"],
                        help="serial parity (E, as M-Bus; N for pseudo-terminals, which refuse parity)")
    parser.add_argument("--echo", action="store_true")
    parser.add_argument("--timeout", type=float, default=2)
    parser.add_argument("--address", type=int)
    parser.add_argument("--secondary")
    parser.add_argument("--telegrams", type=int, default=1)
    args = parser.parse_args()
    if args.serial:
        ser = serial.Serial(args.serial, 2400, bytesize=8, parity=args.parity, stopbits=1,
                            timeout=args.timeout)
    else:
        ser = serial.serial_for_url("socket://" + args.tcp, timeout=args.timeout)
    try:
        if args.secondary:
            meterbus.send_select_frame(ser, args.secondary, args.echo)
            if answer(ser, "select") != b"\xe5":
                raise RuntimeError("select: no acknowledgement")
            address = meterbus.ADDRESS_NETWORK_LAYER
        else:
            address = args.address
            meterbus.send_ping_frame(ser, address, args.echo)
            if answer(ser, "SND_NKE") != b"\xe5":
                raise RuntimeError("SND_NKE: no acknowledgement")
        for k in range(args.telegrams):
            if k % 2 == 0:
                meterbus.send_request_frame_multi(ser, address, read_echo=args.echo)
            else:
                meterbus.send_request_frame(ser, address, read_echo=args.echo)
            data = answer(ser, "REQ_UD2")
            out = frame_json(data, k + 1)
            out["hex"] = data.hex()
            print(json.dumps(out, ensure_ascii=False))
    except Exception as e:  # the peer's failure is data here
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
