"""An aiohttp service: every request waits until COUNT requests are in
flight on its event loop, then each calls the backend from the loop, and
none answers before all have called (so COUNT are in flight at each call).

GET /call?id=N&count=C -> once C requests wait: GET backend /aio?id=N;
                          once C have called: 200

usage: aio_front.py PORT_FILE BACKEND_PORT
"""
import asyncio
import os
import sys

import aiohttp
from aiohttp import web

barriers = {}


async def gathered(where, count):
    """Return once `count` requests have come to `where`."""
    b = barriers.get(where)
    if b is None or b["event"].is_set():
        b = barriers[where] = {"n": 0, "event": asyncio.Event()}
    b["n"] += 1
    if b["n"] >= count:
        b["event"].set()
    await asyncio.wait_for(b["event"].wait(), 30)


async def call(request):
    ident = request.query["id"]
    count = int(request.query.get("count", "1"))
    await gathered("before", count)
    async with aiohttp.ClientSession() as session:
        async with session.get("http://127.0.0.1:%d/aio?id=%s" % (BACKEND, ident)) as r:
            await r.read()
    await gathered("after", count)
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
