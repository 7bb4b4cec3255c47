"""Chat rules on top of the hub: who may post, what is refused, history, batched storage.

Checks run on the process the viewer is connected to, against a cached `ChatPolicy`
(reloaded when a "_policy" event says the host changed something, and at least every
`POLICY_TTL` seconds). Slow mode and the rate limit are per process: a viewer with two
tabs on two processes could post twice as fast, which is acceptable for a chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from passerelle.accounts.models import User
from passerelle.db.engine import Database
from passerelle.errors import DomainError
from passerelle.infra.clock import Clock
from passerelle.infra.ratelimit import MemoryTokenBucket
from passerelle.live import service
from passerelle.live.hub import Connection, Event, Hub
from passerelle.live.models import LiveChatMessage, RoomStatus, SanctionKind

MAX_LENGTH = 300
POLICY_TTL = 5.0
MAX_TRACKED = 200_000  # slow-mode stamps kept per process
_uids = itertools.count(1)
_PROCESS = f"{os.getpid():x}{int(time.time()) % 0xFFFF:x}"


@dataclass(frozen=True)
class Rejected:
    code: str
    retry_after: float = 0.0

    def event(self) -> Event:
        found: Event = {"type": "error", "code": self.code}
        if self.retry_after:
            found["retry_after"] = round(self.retry_after, 1)
        return found


class ChatWriter:
    """Stores chat messages in batches: one INSERT of many rows every `interval`."""

    def __init__(self, db: Database, *, interval: float = 0.5, max_batch: int = 1000) -> None:
        self.db = db
        self.interval = interval
        self.max_batch = max_batch
        self._rows: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, row: dict[str, Any]) -> None:
        self._rows.append(row)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="live-chat-writer")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:
                logging.getLogger("passerelle.live").exception("chat batch not stored")

    async def flush(self) -> None:
        while self._rows:
            batch, self._rows = self._rows[: self.max_batch], self._rows[self.max_batch :]
            async with self.db.writing() as session:
                await session.execute(insert(LiveChatMessage), batch)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()


class Chat:
    def __init__(self, hub: Hub, db: Database, clock: Clock, writer: ChatWriter) -> None:
        self.hub = hub
        self.db = db
        self.clock = clock
        self.writer = writer
        self.limiter = MemoryTokenBucket(rate=1.0, burst=5.0)  # per viewer: 5 at once, then 1/s
        self._policies: dict[int, tuple[service.ChatPolicy | None, float]] = {}
        self._history: dict[int, deque[Event]] = {}
        self._last_post: dict[tuple[int, int], float] = {}
        self.posted: list[Callable[[int, Event], None]] = []  # after a message is published (chat translation)
        hub.observers.append(self._observe)

    def _observe(self, room_id: int, events: list[Event]) -> None:
        history = self._history.get(room_id)
        for event in events:
            kind = event.get("type")
            if kind == "_policy":
                self._policies.pop(room_id, None)
            elif kind == "message" and history is not None:
                history.append(event)

    async def policy(self, room_id: int) -> service.ChatPolicy | None:
        cached = self._policies.get(room_id)
        if cached is not None and time.monotonic() - cached[1] < POLICY_TTL:
            return cached[0]
        async with self.db.read_sessions() as session:
            found = await service.chat_policy(session, room_id=room_id)
        self._policies[room_id] = (found, time.monotonic())
        return found

    async def history(self, room_id: int) -> list[Event]:
        """The last 50 messages: kept in memory once a room has a viewer here."""
        history = self._history.get(room_id)
        if history is None:
            history = self._history[room_id] = deque(maxlen=service.HISTORY)
            async with self.db.read_sessions() as session:
                stored = await service.recent_messages(session, room_id=room_id)
            seen = {e["id"] for e in history}
            older = [_message_event(m.uid, m.user_id, m.author, m.body, m.sent_at) for m in stored]
            history.extendleft(reversed([e for e in older if e["id"] not in seen]))
        return list(history)

    async def post(self, connection: Connection, text: Any) -> Rejected | None:
        if connection.user_id is None:
            return Rejected("login_required")
        if not isinstance(text, str) or not text.strip():
            return Rejected("empty_message")
        text = text.strip()
        if len(text) > MAX_LENGTH:
            return Rejected("message_too_long")
        policy = await self.policy(connection.room_id)
        if policy is None or policy.status == RoomStatus.ended:
            return Rejected("room_closed")
        user_id = connection.user_id
        if user_id in policy.banned:
            return Rejected("banned")
        if user_id in policy.muted:
            return Rejected("muted")
        moderator = policy.may_moderate(user_id)
        now = time.monotonic()
        key = (connection.room_id, user_id)
        if policy.slow_mode_seconds and not moderator:
            wait = self._last_post.get(key, -1e9) + policy.slow_mode_seconds - now
            if wait > 0:
                return Rejected("slow_mode", retry_after=wait)
        allowed, retry = self.limiter.allow(f"{connection.room_id}:{user_id}")
        if not allowed:
            return Rejected("rate_limited", retry_after=retry)
        folded = text.casefold()
        if any(word in folded for word in policy.blocked_words):
            return Rejected("message_blocked")
        if len(self._last_post) > MAX_TRACKED:
            self._last_post.clear()  # forgets slow-mode stamps at worst: one early message each
        self._last_post[key] = now
        sent_at = self.clock.now()
        uid = f"{_PROCESS}-{next(_uids):x}"
        event = _message_event(uid, user_id, connection.name, text, sent_at)
        await self.hub.publish(connection.room_id, event)
        for hook in self.posted:
            hook(connection.room_id, event)
        self.writer.add(
            {
                "room_id": connection.room_id,
                "user_id": user_id,
                "uid": uid,
                "author": connection.name[:100],
                "body": text,
                "sent_at": sent_at,
            }
        )
        return None

    async def moderate(self, connection: Connection, kind: str, target: Any) -> Rejected | None:
        """A moderator mutes or bans a viewer from the chat itself."""
        if connection.user_id is None:
            return Rejected("login_required")
        if not isinstance(target, int) or isinstance(target, bool):
            return Rejected("invalid_request")
        try:
            async with self.db.writing() as session:
                room = await service.get_room(session, connection.room_id)
                actor = await session.get(User, connection.user_id)
                if actor is None:
                    return Rejected("login_required")
                await service.sanction(session, room=room, actor=actor, user_id=target, kind=SanctionKind(kind))
        except DomainError as error:
            return Rejected(error.code)
        await announce_sanction(self.hub, room_id=connection.room_id, user_id=target, kind=SanctionKind(kind))
        return None


async def announce_sanction(hub: Hub, *, room_id: int, user_id: int, kind: SanctionKind) -> None:
    await hub.publish(room_id, {"type": "_policy"})
    if kind == SanctionKind.ban:
        await hub.publish(room_id, {"type": "_kick", "user_id": user_id})


def _message_event(uid: str, user_id: int | None, author: str, text: str, sent_at: datetime) -> Event:
    return {
        "type": "message",
        "id": uid,
        "user": {"id": user_id, "name": author},
        "text": text,
        "at": sent_at.isoformat(),
    }
