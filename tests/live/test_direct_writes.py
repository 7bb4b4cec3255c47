"""Room frames written straight to a viewer's socket (live/direct.py), through a real uvicorn
server running `passerelle serve`'s WebSocket protocol and a real WebSocket client."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn
import websockets

from passerelle.live.direct import DirectSocket, DirectWebSocketProtocol, encode_text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_given_the_serve_protocol_then_a_frame_encoded_once_reaches_each_viewer_and_stops_at_close() -> None:
    sockets: list[DirectSocket | None] = []
    release = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hello"})  # through ASGI first
        sockets.append(DirectSocket.of(scope))
        await release.wait()
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": 1000})

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws=DirectWebSocketProtocol, log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    try:
        url = f"ws://127.0.0.1:{port}/"
        first = await websockets.connect(url, compression=None)
        second = await websockets.connect(url, compression=None)
        assert await first.recv() == "hello" and await second.recv() == "hello"
        while len(sockets) < 2:  # noqa: ASYNC110 - the app appends as each socket opens
            await asyncio.sleep(0.01)
        assert all(s is not None for s in sockets)

        frame = encode_text('[{"type":"message","text":"é à"}]'.encode())
        assert all(s is not None and s.write(frame) for s in sockets)
        assert await first.recv() == '[{"type":"message","text":"é à"}]'
        assert await second.recv() == '[{"type":"message","text":"é à"}]'

        # A viewer gone: the direct write refuses instead of writing into a closing socket.
        await first.close()
        gone = sockets[0]
        assert gone is not None
        for _ in range(100):
            if not gone.write(frame):
                break
            await asyncio.sleep(0.01)
        assert gone.write(frame) is False
        await second.close()
    finally:
        release.set()
        server.should_exit = True
        await serving


async def test_given_a_scope_from_another_server_then_no_direct_socket() -> None:
    assert DirectSocket.of({"type": "websocket", "extensions": {}}) is None
    assert DirectSocket.of({"type": "websocket"}) is None
