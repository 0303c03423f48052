#!/usr/bin/env python3
"""A TCP proxy that drops the connection mid-stream: forwards one client to TARGET_PORT on
loopback and closes both sides once the server has sent LIMIT bytes. Used by the end-to-end tests
for a meter whose connection breaks in the middle of a block transfer.

usage: drop_proxy.py LISTEN_PORT TARGET_PORT LIMIT
Prints "ready" on stdout once listening."""
import select
import socket
import sys

listen_port, target_port, limit = (int(a) for a in sys.argv[1:4])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(1)
print("ready", flush=True)
client, _ = server.accept()
meter = socket.create_connection(("127.0.0.1", target_port))
sent = 0
while sent < limit:
    readable, _, _ = select.select([client, meter], [], [], 30)
    if not readable:
        break
    if client in readable:
        data = client.recv(4096)
        if not data:
            break
        meter.sendall(data)
    if meter in readable:
        data = meter.recv(min(4096, limit - sent))
        if not data:
            break
        client.sendall(data)
        sent += len(data)
meter.close()
client.close()
