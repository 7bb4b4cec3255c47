"""Writing a room's frame straight to each viewer's socket, encoded once.

The ordinary way to send a frame to a viewer is its own ASGI `websocket.send`: the server
encodes the WebSocket frame for that socket and writes it, about 20-40 µs of Python per
viewer. A room sends the same frame to every viewer, so the hub encodes it once (websockets'
own frame serialiser) and hands the bytes to each socket's transport: a few µs per viewer.

This reaches under the ASGI interface: `passerelle serve` runs uvicorn with
`DirectWebSocketProtocol` (its `websockets` sans-I/O implementation, plus the protocol
object put in the scope's extensions). `DirectSocket.of` answers None for anything else
(another server, a negotiated extension such as per-message deflate), and the viewer is
then served through ASGI as before.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

SCOPE_EXTENSION = "passerelle.direct_socket"

# A viewer whose socket buffer holds more than this is slow: it gets the frame through its
# queue (bounded, lossy), not an ever-growing transport buffer.
MAX_BUFFERED = 256 * 1024


def encode_text(payload: bytes) -> bytes:
    """One unmasked text frame (server to client), as the socket will carry it."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class DirectSocket:
    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport = protocol.transport

    @classmethod
    def of(cls, scope: Any) -> DirectSocket | None:
        """The socket of a WebSocket scope, when `passerelle serve` runs it (see below)."""
        protocol = scope.get("extensions", {}).get(SCOPE_EXTENSION, {}).get("protocol")
        if protocol is None or protocol.conn.extensions:  # e.g. per-message deflate: frames differ
            return None
        return cls(protocol)

    def write(self, frame: bytes) -> bool:
        """Write an encoded frame now. False when the socket cannot take it this way (not
        open, closing, or its buffer is full): the caller queues the frame instead."""
        protocol = self._protocol
        transport = self._transport
        if (
            protocol.close_sent
            or protocol.conn.state is not State.OPEN
            or not protocol.writable.is_set()
            or transport.is_closing()
            or transport.get_write_buffer_size() > MAX_BUFFERED
        ):
            return False
        transport.write(frame)
        return True


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, telling the app which protocol object a scope is."""

    async def run_asgi(self) -> None:
        self.scope.setdefault("extensions", {})[SCOPE_EXTENSION] = {"protocol": self}
        await super().run_asgi()
