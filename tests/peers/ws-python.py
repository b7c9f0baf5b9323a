# python3-websockets against wire (driven by tests/test-ws-python.c).
# Usage: ws-python.py client URL   (checks wire's echo server; exit 0 = ok)
#        ws-python.py server       (an echo server; prints "listening on")
import asyncio
import sys

import websockets


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


async def client(url):
    async with websockets.connect(url, subprotocols=["chat"], compression="deflate",
                                  max_size=None) as ws:
        if ws.subprotocol != "chat":
            fail("subprotocol %r" % ws.subprotocol)
        await ws.send("hello from python")
        if await ws.recv() != "hello from python":
            fail("text echo")
        await ws.send(b"\x00\x01\x02" * 100000)
        if await ws.recv() != b"\x00\x01\x02" * 100000:
            fail("binary echo")
        await ws.send(["frag", "mented ", "text ✓"])
        if await ws.recv() != "fragmented text ✓":
            fail("fragmented echo")
        pong = await ws.ping(b"py")
        await asyncio.wait_for(pong, 10)
        await ws.close(4003, "python bye")
        if ws.close_code != 4003 or ws.close_reason != "python bye":
            fail("close %r %r" % (ws.close_code, ws.close_reason))
    print("ok client")


async def echo(ws, path=None):
    try:
        async for m in ws:
            if m == "close-me":
                await ws.close(4004, "python server bye")
                return
            await ws.send(m)
    except websockets.ConnectionClosed:
        pass


async def server():
    async with websockets.serve(echo, "127.0.0.1", 0, compression="deflate",
                                max_size=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        print("listening on ws://127.0.0.1:%d/" % port, flush=True)
        await asyncio.sleep(60)


if sys.argv[1] == "client":
    asyncio.run(asyncio.wait_for(client(sys.argv[2]), 50))
else:
    asyncio.run(server())
