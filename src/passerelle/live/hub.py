"""The room event hub: fan-out of JSON events to every viewer of a room, on every process.

Any part of passerelle can push an event to the viewers of a room::

    await state.live.hub.publish(room_id, {"type": "pin", "product_id": 12})
    await state.live.hub.publish(room_id, {"type": "deal", "deal_id": 7, "remaining": 40})

An event is a JSON-able dict with a string "type". Viewers receive frames: JSON arrays of
events, at most one frame per room every `flush_interval` (50 ms), so a burst of chat costs
one `json.dumps` per room and one socket write per viewer per tick, not per message. A big
room ticks slower (about `writes_per_second` socket writes per second per process), so
under load frames grow instead of falling behind.
Types in use: "hello", "history", "message", "reactions", "viewers", "status", "showcase",
"error". The room page (static/js/live.js, `handle`) ignores types it does not know, so a
new type is safe to send before the page renders it. Types that start with "_" are control
events between processes ("_kick", "_policy"): they reach the hub's observers, never a
browser.

Embedded, the backend is in-process. With PASSERELLE_REDIS_URL, `RedisBackend` carries each
tick's events of a room as one pub/sub message on `passerelle:live:<room id>`, so a viewer on
process A sees what was posted on process B; the viewer count sums every process's count,
kept in a Redis hash with a time stamp per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from passerelle.live.direct import DirectSocket, encode_text

log = logging.getLogger("passerelle.live")

Event = dict[str, Any]
Deliver = Callable[[int, list[Event]], None]
Observer = Callable[[int, list[Event]], None]
CHANNEL_PREFIX = "passerelle:live:"
VIEWERS_KEY = "passerelle:live-viewers:"
KICKED = "__kicked__"  # sentinel frame: banned, close for good
GOING_AWAY = "__going_away__"  # sentinel frame: this process stops, the viewer reconnects
SENTINELS = frozenset({KICKED, GOING_AWAY})


class Connection:
    """One viewer's socket as the hub sees it: a bounded queue of frames to write."""

    __slots__ = ("room_id", "user_id", "name", "queue", "dropped", "direct")

    def __init__(self, room_id: int, user_id: int | None, name: str, *, max_frames: int = 256) -> None:
        self.room_id = room_id
        self.user_id = user_id
        self.name = name
        self.queue: asyncio.Queue[str] = asyncio.Queue(max_frames)
        self.dropped = 0
        # Set by the socket handler when the server lets the hub write frames itself.
        self.direct: DirectSocket | None = None

    def offer(self, frame: str) -> None:
        """Never blocks the hub: a viewer too slow to read loses frames, not the room."""
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped += 1

    def send_now(self, *events: Event) -> None:
        self.offer(orjson.dumps(list(events)).decode())

    def kick(self, sentinel: str = KICKED) -> None:
        while True:  # make room for the sentinel
            try:
                self.queue.put_nowait(sentinel)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()


class Backend(Protocol):
    async def start(self, deliver: Deliver) -> None: ...

    async def publish(self, room_id: int, events: list[Event]) -> None: ...

    async def viewer_total(self, room_id: int, local: int) -> int: ...

    async def stop(self) -> None: ...


class LocalBackend:
    """One process: what is published is delivered here."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def publish(self, room_id: int, events: list[Event]) -> None:
        if self._deliver is not None:
            self._deliver(room_id, events)

    async def viewer_total(self, room_id: int, local: int) -> int:
        return local

    async def stop(self) -> None:
        self._deliver = None


class RedisBackend:
    """Pub/sub across processes; every process (itself included) gets every room's events."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis: Redis = Redis.from_url(url)
        self.process_id = f"{os.getpid()}-{id(self):x}"
        self._task: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(CHANNEL_PREFIX + "*")
        self._task = asyncio.create_task(self._listen(pubsub, deliver), name="live-redis-listener")

    async def _listen(self, pubsub: Any, deliver: Deliver) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                channel = message["channel"]
                room = (channel.decode() if isinstance(channel, bytes) else str(channel)).removeprefix(CHANNEL_PREFIX)
                if room.isdigit():
                    deliver(int(room), orjson.loads(message["data"]))
        except asyncio.CancelledError:
            await pubsub.aclose()
            raise

    async def publish(self, room_id: int, events: list[Event]) -> None:
        await self.redis.publish(f"{CHANNEL_PREFIX}{room_id}", orjson.dumps(events))

    async def viewer_total(self, room_id: int, local: int) -> int:
        key = f"{VIEWERS_KEY}{room_id}"
        now = time.time()
        await self.redis.hset(key, self.process_id, f"{local}:{now}")
        await self.redis.expire(key, 60)
        total = 0
        for value in (await self.redis.hgetall(key)).values():
            count, _, stamp = (value.decode() if isinstance(value, bytes) else str(value)).partition(":")
            if now - float(stamp) < 10:  # a process that stopped reporting no longer counts
                total += int(count)
        return total

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.redis.aclose()


class Hub:
    REACTIONS = frozenset({"heart", "fire", "clap", "laugh", "wow"})

    def __init__(
        self,
        backend: Backend,
        *,
        flush_interval: float = 0.05,
        reactions_interval: float = 1.0,
        viewers_interval: float = 2.0,
        writes_per_second: float = 20_000.0,
    ) -> None:
        self.backend = backend
        self.flush_interval = flush_interval
        self.writes_per_second = writes_per_second
        self.reactions_interval = reactions_interval
        self.viewers_interval = viewers_interval
        self.rooms: dict[int, set[Connection]] = {}
        self.observers: list[Observer] = []
        self._outgoing: dict[int, list[Event]] = {}
        self._pending: dict[int, list[Event]] = {}
        self._reactions: dict[int, Counter[str]] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # --- what the rest of passerelle calls ---

    async def publish(self, room_id: int, event: Event) -> None:
        """Queue `event` for every viewer of `room_id`; sent within the next tick."""
        self._outgoing.setdefault(room_id, []).append(event)
        self._wake.set()

    def react(self, room_id: int, kind: str) -> bool:
        """Count a reaction; the counts go out once per `reactions_interval`, not per click."""
        if kind not in self.REACTIONS:
            return False
        self._reactions.setdefault(room_id, Counter())[kind] += 1
        return True

    def join(self, connection: Connection) -> None:
        self.rooms.setdefault(connection.room_id, set()).add(connection)

    def leave(self, connection: Connection) -> None:
        viewers = self.rooms.get(connection.room_id)
        if viewers is not None:
            viewers.discard(connection)
            if not viewers:
                del self.rooms[connection.room_id]

    def viewers(self, room_id: int) -> int:
        return len(self.rooms.get(room_id, ()))

    # --- lifecycle ---

    async def start(self) -> None:
        await self.backend.start(self._deliver)
        self._tasks = [
            asyncio.create_task(self._flush_loop(), name="live-hub-flush"),
            asyncio.create_task(self._every(self.reactions_interval, self._send_reactions), name="live-reactions"),
            asyncio.create_task(self._every(self.viewers_interval, self._send_viewers), name="live-viewers"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.backend.stop()
        for viewers in self.rooms.values():
            for connection in viewers:
                connection.kick(GOING_AWAY)

    # --- internals ---

    def _deliver(self, room_id: int, events: list[Event]) -> None:
        """Events of a room reached this process (from itself or, through Redis, another)."""
        for observer in self.observers:
            observer(room_id, events)
        for event in events:
            if event.get("type") == "_kick":
                for connection in list(self.rooms.get(room_id, ())):
                    if connection.user_id == event.get("user_id"):
                        connection.kick()
        public = [e for e in events if not str(e.get("type", "")).startswith("_")]
        if public and room_id in self.rooms:
            self._pending.setdefault(room_id, []).extend(public)
            self._wake.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            queued = 0
            started = time.perf_counter()
            try:
                queued = await self._flush()
            except Exception:  # the loop must survive a Redis hiccup
                log.exception("live hub flush failed")
            spent = time.perf_counter() - started
            # Big rooms tick slower: a tick costs one socket write per viewer, so at most
            # half of the process goes to writing (direct writes are timed, queued ones are
            # written later by their sockets' tasks and counted against a budget), and each
            # frame carries more events instead of the room falling behind.
            await asyncio.sleep(max(self.flush_interval, spent, queued / self.writes_per_second))

    async def _flush(self) -> int:
        """Send each room its pending events; returns how many frames went through queues."""
        outgoing, self._outgoing = self._outgoing, {}
        for room_id, events in outgoing.items():
            await self.backend.publish(room_id, events)
        pending, self._pending = self._pending, {}
        queued = 0
        for room_id, events in pending.items():
            payload = orjson.dumps(events)
            encoded: bytes | None = None
            text: str | None = None
            for connection in self.rooms.get(room_id, ()):
                direct = connection.direct
                # Only when nothing is queued for this viewer, so frames keep their order.
                if direct is not None and connection.queue.empty():
                    if encoded is None:
                        encoded = encode_text(payload)
                    if direct.write(encoded):
                        continue
                if text is None:
                    text = payload.decode()
                connection.offer(text)
                queued += 1
        return queued

    async def _every(self, seconds: float, work: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except Exception:
                log.exception("live hub periodic task failed")

    async def _send_reactions(self) -> None:
        counts, self._reactions = self._reactions, {}
        for room_id, counter in counts.items():
            await self.publish(room_id, {"type": "reactions", "counts": dict(counter)})

    async def _send_viewers(self) -> None:
        for room_id in list(self.rooms):
            total = await self.backend.viewer_total(room_id, self.viewers(room_id))
            # Local only (each process counts its own), and in the next tick's frame rather
            # than a frame of its own: a socket write per viewer is the expensive part.
            self._pending.setdefault(room_id, []).append({"type": "viewers", "count": total})
        self._wake.set()
