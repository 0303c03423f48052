#!/usr/bin/env python3
"""Read an IEC 62056-21 meter with pwitab's iec62056_21 client and print the readout as one JSON line.

Usage: iec62056_21_read.py --tcp HOST:PORT [--address ADDR] [--timeout SECONDS]

The meter sits behind a transparent TCP gateway (for example ../shared/peers/iec62056-21/
meter_sim.py --tcp). The client's own steps do the work: ``Iec6205621Client.with_tcp_transport``,
``connect``, ``standard_readout`` (sign-on with the device address, identification, ACK option
select for a data readout, the data message), ``disconnect``. Output::

    {"manufacturer": "SIM", "switchover_baudrate_char": "5", "identification": "eterSim-1",
     "data_sets": [{"address": "1.8.0", "value": "012345.678", "unit": "kWh"}, ...]}

Values and units are the library's strings, unchanged. The library drops the two characters after
the baud-rate character of the identification (it assumes a ``\\W`` sequence), and an extra value
group such as ``1.6.0(05.432*kW)(2403011215)`` becomes a second data set with address null: that is
the peer's behaviour, kept. A failure prints ``{"error": "<exception class>: <message>"}`` and exits 1.
"""
import argparse
import json
import sys

from iec62056_21 import client


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tcp", required=True, help="HOST:PORT of the gateway")
    ap.add_argument("--address", default="", help="device address for the sign-on")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    args = ap.parse_args(argv)
    host, _, port = args.tcp.rpartition(":")
    c = client.Iec6205621Client.with_tcp_transport((host, int(port)), device_address=args.address)
    c.transport.timeout = args.timeout
    try:
        c.connect()
        c.transport.socket.settimeout(args.timeout)
        readout = c.standard_readout()
        print(json.dumps({
            "manufacturer": c.manufacturer_id,
            "switchover_baudrate_char": c.switchover_baudrate_char,
            "identification": c.identification,
            "data_sets": [{"address": d.address, "value": d.value, "unit": d.unit} for d in readout.data],
        }))
        return 0
    except Exception as e:  # the peer's failure is data for the test
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 1
    finally:
        try:
            c.disconnect()
        except Exception:
            pass


if __name__ == "__main__":
    sys.exit(main())
