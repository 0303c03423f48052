#!/usr/bin/env python3
"""Many simulated meters for the fleet benchmark: listens on COUNT consecutive loopback ports and
forwards each connection to one real meter simulator at TARGET_PORT, holding every answer back
DELAY_MS milliseconds, as a meter behind a GPRS or NB-IoT modem answers.

usage: delay_proxy.py FIRST_PORT COUNT TARGET_PORT DELAY_MS
Prints "ready" once every port listens; serves until killed."""
import asyncio
import resource
import sys

first, count, target, delay_ms = (int(a) for a in sys.argv[1:5])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def pump(reader, writer, delay):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        meter_reader, meter_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, meter_writer, 0), pump(meter_reader, client_writer, delay_ms / 1000))


async def main():
    servers = [await asyncio.start_server(handle, "127.0.0.1", first + i, backlog=256) for i in range(count)]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
