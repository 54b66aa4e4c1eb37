"""An aiohttp service: every request waits until COUNT requests are in
flight on its event loop, then each calls the backend from the loop.

GET /call?id=N&count=C -> once C requests wait: GET backend /aio?id=N; 200

usage: aio_front.py PORT_FILE BACKEND_PORT
"""
import asyncio
import os
import sys

import aiohttp
from aiohttp import web

waiting = {"n": 0, "event": None}


async def gathered(count):
    """Return once `count` requests are here (all of them in flight)."""
    if waiting["event"] is None or waiting["event"].is_set():
        waiting["n"], waiting["event"] = 0, asyncio.Event()
    event = waiting["event"]
    waiting["n"] += 1
    if waiting["n"] >= count:
        event.set()
    await asyncio.wait_for(event.wait(), 30)


async def call(request):
    ident = request.query["id"]
    await gathered(int(request.query.get("count", "1")))
    async with aiohttp.ClientSession() as session:
        async with session.get("http://127.0.0.1:%d/aio?id=%s" % (BACKEND, ident)) as r:
            await r.read()
    return web.Response(text="ok")


async def main(port_file):
    app = web.Application()
    app.router.add_get("/call", call)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    await asyncio.Event().wait()


if __name__ == "__main__":
    BACKEND = int(sys.argv[2])
    asyncio.run(main(sys.argv[1]))
