"""
WebSocket load: CONNECTIONS clients each send a message and wait for its
echo, again and again, for SECONDS; prints the echoes per second.

    python ws_load.py ws://127.0.0.1:PORT/ CONNECTIONS SECONDS
"""
import asyncio
import sys
import time

from websockets.asyncio.client import connect


async def client(url, deadline, counts):
    async with connect(url, compression=None) as socket:
        count = 0
        while time.monotonic() < deadline:
            await socket.send("ping %d" % count)
            if await socket.recv() != "ping %d" % count:
                raise SystemExit("a wrong echo")
            count += 1
        counts.append(count)


async def main(url, connections, seconds):
    counts = []
    started = time.monotonic()
    await asyncio.gather(*[client(url, started + seconds, counts) for _ in range(connections)])
    print("%.1f" % (sum(counts) / (time.monotonic() - started)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
