#!/usr/bin/env python3
"""A TCP proxy that makes loopback look like a WAN link, for bench/publish-wan.sh.

Every connection gets a one-way delay in each direction (RTT/2, so a round trip costs RTT) and
its own bandwidth limit in each direction (bytes are released no faster than RATE), like a
long-distance link where each TCP connection gets a fixed share; a new connection first waits
one round trip (the handshake). TCP slow start and loss are not modelled. Prints "PORT <n>" once listening.

Usage: wan_proxy.py --upstream HOST:PORT [--port 0] [--rtt-ms 30] [--mbit 200]
"""
import argparse
import asyncio


async def pipe(reader, writer, delay, rate):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(deliver())
    free_at = loop.time()
    try:
        while True:
            data = await reader.read(64 * 1024)
            now = loop.time()
            if not data:
                await queue.put((max(now, free_at) + delay, None))
                break
            # The link is busy until free_at; this chunk leaves when it has been serialized.
            free_at = max(now, free_at) + len(data) / rate
            await queue.put((free_at + delay, data))
            # Back-pressure: do not read far ahead of what the link can carry.
            ahead = free_at - now - 0.005
            if ahead > 0:
                await asyncio.sleep(ahead)
        await sender
    except (ConnectionError, OSError):
        sender.cancel()


async def handle(client_reader, client_writer, upstream, delay, rate):
    host, port = upstream
    # The TCP handshake costs a round trip before the client's first byte can travel.
    await asyncio.sleep(2 * delay)
    try:
        server_reader, server_writer = await asyncio.open_connection(host, port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(
        pipe(client_reader, server_writer, delay, rate),
        pipe(server_reader, client_writer, delay, rate),
        return_exceptions=True,
    )
    for w in (client_writer, server_writer):
        w.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rtt-ms", type=float, default=30.0)
    ap.add_argument("--mbit", type=float, default=200.0)
    args = ap.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    delay = args.rtt_ms / 2000.0
    rate = args.mbit * 1_000_000 / 8
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, (host, int(port)), delay, rate), "127.0.0.1", args.port
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
