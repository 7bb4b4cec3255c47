"""Plain keep-alive HTTP/1.1 over asyncio streams, for the load generators.

A Python HTTP client library costs more CPU per request than the server's handler: with
httpx, `bench checkout`'s load process used a whole core for ~110 requests/s and became
what the benchmark measured. This sends pre-encoded requests and reads the status line,
the headers it needs and a Content-Length body; nothing more (no chunked bodies, no
redirects, no TLS), which is all the benchmarks' own server answers need."""

from __future__ import annotations

import asyncio
from types import TracebackType


def request_bytes(method: str, path: str, host: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}"]
    if body:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """Send one request, read its answer: (status, body)."""
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("the server closed the connection")
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return int(status_line.split()[1]), await reader.readexactly(length)


class Connection:
    """One keep-alive connection, opened again if the server dropped it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.authority = f"{host}:{port}"
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        try:
            return await exchange(*self._streams, request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise

    async def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        return await self.send(request_bytes("POST", path, self.authority, body, headers))

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
