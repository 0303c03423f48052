#!/usr/bin/env python3
"""The peer side of the fleet benchmark: reads COUNT simulated SDM630 meters one after another
with pymodbus's synchronous TCP client, as a simple poller does: the input registers 0x0000-0x017F
in blocks of 80 and the serial number (holding 0xFC00, 2 registers), then closes the connection.
Checks that the import energy register decodes to the simulator's value.

usage: peer_modbus_fleet.py FIRST_PORT COUNT
Prints one JSON object: meters, seconds, meters_per_s, requests."""
import json
import struct
import sys
import time

from pymodbus.client import ModbusTcpClient

first, count = int(sys.argv[1]), int(sys.argv[2])
requests = 0
start = time.monotonic()
for i in range(count):
    client = ModbusTcpClient("127.0.0.1", port=first + i, timeout=10)
    if not client.connect():
        sys.exit(f"peer: meter {i}: cannot connect")
    words = []
    for address in range(0, 0x180, 80):
        r = client.read_input_registers(address, count=min(80, 0x180 - address), device_id=1)
        requests += 1
        if r.isError():
            sys.exit(f"peer: meter {i}: {r}")
        words += r.registers
    r = client.read_holding_registers(0xFC00, count=2, device_id=1)
    requests += 1
    if r.isError():
        sys.exit(f"peer: meter {i}: {r}")
    client.close()
    kwh = struct.unpack(">f", struct.pack(">HH", words[0x48], words[0x49]))[0]
    if abs(kwh - 12345.678) > 0.01:
        sys.exit(f"peer: meter {i}: import kWh {kwh}")
seconds = time.monotonic() - start
print(json.dumps({"meters": count, "seconds": round(seconds, 3), "meters_per_s": round(count / seconds, 2),
                  "requests": requests}))
