"""Waking `passerelle worker` when another process queues outbox messages.

With PASSERELLE_OUTBOX_PROCESS=true the server's commits queue messages that a worker
process consumes. The worker polls the outbox, but a paid order's webhook would then wait
for the next poll. So the worker also listens on a Unix datagram socket named after the
database (Linux's abstract namespace: no file to clean up, no path length limit), and after
a commit that queued messages, the server sends it one empty datagram. Sending never
blocks and never fails the sender: with no worker listening, or its queue of nudges full,
the datagram is dropped and the poll (kept for messages due later, and for messages other
processes queue) catches up. A server whose nudges find no worker says so in its log, once a
minute: the paid-order work waits until one runs.

Several workers: each binds the first free of `SLOTS` names and each is nudged (one
datagram per listening worker; the server looks for newcomers at most once a second). A
worker beyond `SLOTS` only polls. Any local process may send a nudge; all it can do is make
a worker look at the outbox once more.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def address(database_url: str, slot: int = 0) -> bytes:
    """The abstract socket name a worker of this database listens on, in `slot`."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:32]
    return b"\0passerelle-outbox-" + digest.encode() + (f"-{slot}".encode() if slot else b"")


# How many workers of one database can be nudged; more poll.
SLOTS = 8
# How often, at most, the server looks for workers that started since (the rest of the time
# it nudges only those it knows).
RESCAN_SECONDS = 1.0
# How often, at most, the server says that no worker listens.
WARN_EVERY_SECONDS = 60.0


class WakeSender:
    """The server's side: one non-blocking datagram per listening worker and `send()`. When
    no worker listens, it says so in the log (at most once a minute): the messages wait for
    a worker."""

    def __init__(self, database_url: str) -> None:
        self._addresses = [address(database_url, slot) for slot in range(SLOTS)]
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self.monotonic: Callable[[], float] = time.monotonic
        self._listening: list[bytes] = []
        self._scanned_at: float | None = None
        self._warned_at: float | None = None
        self._soon: asyncio.Handle | None = None

    def send_soon(self) -> None:
        """`send()` once the event loop's current pass is over, once for every call made
        meanwhile: the members of a group commit answer together, and each asked for a
        datagram per worker (~1 % of the server's main thread in bench checkout)."""
        if self._soon is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.send()
            return
        self._soon = loop.call_soon(self._send_now)

    def _send_now(self) -> None:
        self._soon = None
        self.send()

    def send(self) -> None:
        now = self.monotonic()
        if self._scanned_at is None or now - self._scanned_at >= RESCAN_SECONDS:
            self._scanned_at = now
            candidates = self._addresses  # every slot: workers may have started since
        else:
            candidates = self._listening
        self._listening = [name for name in candidates if self._nudge(name)]
        if not self._listening and (self._warned_at is None or now - self._warned_at >= WARN_EVERY_SECONDS):
            self._warned_at = now
            log.warning(
                "outbox messages are queued but no `passerelle worker` listens: with "
                "PASSERELLE_OUTBOX_PROCESS=true, paid orders' webhooks, mails and commissions wait for one"
            )

    def _nudge(self, name: bytes) -> bool:
        """False when nobody listens on `name`."""
        try:
            self._socket.sendto(b"", name)
        except ConnectionRefusedError:
            return False
        except OSError:
            pass  # plenty of nudges queued already: dropped, that worker is busy anyway
        return True

    def close(self) -> None:
        if self._soon is not None:
            self._soon.cancel()
            self._send_now()
        self._socket.close()


def listening_workers(database_url: str) -> int:
    """How many workers of this database listen on this machine (the slots someone holds),
    found without nudging them: connecting a datagram socket fails where nobody listens.
    Workers beyond `SLOTS`, and those on other machines (PostgreSQL), are not counted."""
    found = 0
    for slot in range(SLOTS):
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect(address(database_url, slot))
            except OSError:
                continue
            found += 1
    return found


class WakeListener:
    """The worker's side: calls `on_wake` (on the event loop) whenever nudged."""

    def __init__(self, database_url: str, on_wake: Callable[[], None]) -> None:
        self._on_wake = on_wake
        self._socket: socket.socket | None = None
        self.slot: int | None = None
        for slot in range(SLOTS):
            candidate = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                candidate.bind(address(database_url, slot))
            except OSError:  # another worker holds this slot
                candidate.close()
                continue
            self._socket, self.slot = candidate, slot
            break
        if self._socket is None:
            return  # every slot is taken: this worker polls
        self._socket.setblocking(False)
        asyncio.get_running_loop().add_reader(self._socket.fileno(), self._drain)

    @property
    def listening(self) -> bool:
        return self._socket is not None

    def _drain(self) -> None:
        assert self._socket is not None
        with contextlib.suppress(BlockingIOError):
            while True:
                self._socket.recv(16)  # every nudge queued so far: one look at the outbox
        self._on_wake()

    def close(self) -> None:
        if self._socket is not None:
            asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
