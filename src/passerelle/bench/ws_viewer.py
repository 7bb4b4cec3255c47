"""A bare WebSocket viewer for the load process of `passerelle bench live`.

Ten thousand viewers in one process must not cost more CPU than the server they measure:
a full client library spends tens of µs per received frame (tasks, queues, UTF-8 checks).
This one is an asyncio protocol that parses the server's frames just enough (lengths,
pings, close), scans text payloads for the bench's time stamps and nothing else.
Server frames are never masked (RFC 6455 5.1); client frames always are.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import time
from collections.abc import Callable, MutableSequence
from urllib.parse import urlsplit

STAMP = re.compile(rb'"text":"bench (\d+)"')
OP_CONTINUATION, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x8, 0x9, 0xA


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (payloads under 126 bytes: pongs and closes)."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


class ViewerProtocol(asyncio.Protocol):
    def __init__(self, host: str, path: str, on_stamps: Callable[[list[bytes]], None]) -> None:
        self.host = host
        self.path = path
        self.on_stamps = on_stamps
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionError(bytes(buffer[:end]).decode(errors="replace")))
                self._close()
                return
            del buffer[: end + 4]
            self.upgraded.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        at = 0
        size = len(buffer)
        stamps: list[bytes] = []
        while size - at >= 2:
            opcode = buffer[at] & 0x0F
            length = buffer[at + 1] & 0x7F
            head = 2
            if length == 126:
                if size - at < 4:
                    break
                length = int.from_bytes(buffer[at + 2 : at + 4], "big")
                head = 4
            elif length == 127:
                if size - at < 10:
                    break
                length = int.from_bytes(buffer[at + 2 : at + 10], "big")
                head = 10
            end = at + head + length
            if end > size:
                break
            if opcode in (OP_TEXT, OP_CONTINUATION):
                stamps += STAMP.findall(buffer, at + head, end)
            elif opcode == OP_PING and self.transport is not None:
                self.transport.write(masked_frame(OP_PONG, bytes(buffer[at + head : end])))
            elif opcode == OP_CLOSE:
                self._close()
                return
            at = end
        if at:
            del buffer[:at]
        if stamps:
            self.on_stamps(stamps)

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(OP_CLOSE, (1000).to_bytes(2, "big")))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed before the upgrade"))
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        self._close()


async def open_viewer(url: str, on_stamps: Callable[[list[bytes]], None]) -> ViewerProtocol:
    """Connect and upgrade (callers bound the wait); raises OSError or ConnectionError."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: ViewerProtocol(f"{host}:{port}", parts.path, on_stamps), host, port
    )
    await protocol.upgraded
    return protocol


def latency_recorder(latencies: MutableSequence[float], mark: Callable[[], None]) -> Callable[[list[bytes]], None]:
    """Stamps -> latencies in ms (CLOCK_MONOTONIC is one clock for every process on Linux)."""
    append = latencies.append

    def record(stamps: list[bytes]) -> None:
        now = time.monotonic_ns()
        for stamp in stamps:
            append((now - int(stamp)) / 1e6)
        mark()

    return record
