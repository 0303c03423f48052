#!/usr/bin/env python3
"""Meters that fail the way real ones do, on loopback TCP, for the fleet tests:

  silent   accepts the connection and reads, but never answers (a meter that hangs, or a
           half-open connection whose far end is gone without a FIN)
  vanish   answers the first request with the first half of a plausible answer, then resets
           the connection (a port that vanishes in the middle of a read)

usage: faulty_meters.py MODE [MODE ...]
Prints "ready PORT [PORT ...]" (one port per MODE, in order) and serves until killed."""
import socket
import struct
import sys
import threading

def serve(server, mode):
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, mode), daemon=True).start()

def handle(conn, mode):
    try:
        if mode == "silent":
            while conn.recv(4096):
                pass
        elif mode == "vanish":
            if conn.recv(4096):
                # A DLMS wrapper header announcing 40 bytes, then 10 of them.
                conn.sendall(bytes([0, 1, 0, 1, 0, 16, 0, 40]) + bytes(10))
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    finally:
        conn.close()

ports = []
for mode in sys.argv[1:]:
    if mode not in ("silent", "vanish"):
        sys.exit(f"unknown mode {mode}")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    ports.append(s.getsockname()[1])
    threading.Thread(target=serve, args=(s, mode), daemon=True).start()
print("ready", *ports, flush=True)
threading.Event().wait()
