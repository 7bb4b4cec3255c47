"""Transactional outbox: messages written in the same transaction as the change they
announce, handled after commit by a runner (in-process by default, or `passerelle worker`).

Every handler must be idempotent: a message can be delivered again after a crash. A runner
takes a message with a lease (its due time pushed LEASE ahead) and marks it processed only
once its handler has succeeded; if the process dies in between, the lease runs out and the
message is delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BindParameter,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import Executable

from passerelle.db.base import Base, UTCDateTime, utcnow
from passerelle.db.group_commit import MemberSession
from passerelle.db.prepared import Prepared, bound

log = logging.getLogger("passerelle.outbox")

Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Grouped:
    """A consumer given up to `size` claimed messages of its topic at once (to apply them in
    one transaction, say). It answers each payload, in order: None when done, else the
    exception that failed it; a failed message is retried on its own schedule, as always."""

    handle: Callable[[Any, list[dict[str, Any]]], Awaitable[list[BaseException | None]]]
    size: int = 16
    # Leased and run before the other topics' messages (what a buyer waits for: their order
    # becoming paid), rather than behind the mails and commissions of the orders paid before.
    first: bool = False


Item = TypeVar("Item")


async def each_alone(items: list[Item], work: Callable[[Item], Awaitable[None]]) -> list[BaseException | None]:
    """A grouped consumer's answers when its items are done one by one: None for each done,
    the exception for each failed (that message alone is retried), in order."""
    outcomes: list[BaseException | None] = []
    for item in items:
        try:
            await work(item)
        except Exception as error:  # noqa: BLE001 - handed back: the outbox retries that message
            outcomes.append(error)
        else:
            outcomes.append(None)
    return outcomes


# A topic maps to one consumer, or to several: then the runner copies the message once per
# consumer ("orders.paid#1"...) in the claiming transaction, so each is retried on its own and a
# failing consumer never makes another run twice.
Handlers = Mapping[str, Handler | Grouped | tuple[Handler | Grouped, ...]]
FANOUT = "#"
MAX_ATTEMPTS = 8
# Longer than any handler should take; a crashed runner's messages come back after it.
LEASE = timedelta(minutes=2)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    # Only the messages given up are indexed (the operators' console lists them): the hot
    # path's inserts leave this index alone.
    __table_args__ = (
        Index(
            "ix_outbox_messages_gave_up",
            "gave_up_at",
            sqlite_where=text("gave_up_at IS NOT NULL"),
            postgresql_where=text("gave_up_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Set with processed_at when the last attempt failed: kept for the operators' console,
    # which can queue it again (infra/outbox_console.py).
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def emit(session: AsyncSession, *, topic: str, payload: dict[str, Any], at: datetime | None = None) -> None:
    """Queue a message; it becomes visible to the runner when `session` commits."""
    session.add(OutboxMessage(topic=topic, payload=payload, available_at=at or utcnow()))
    note_emitted(session, (topic,))


def note_emitted(session: AsyncSession, topics: Iterable[str]) -> None:
    """Read by the unit of work after the commit: it wakes the consumers of these topics at
    once (`AppState.wake_worker`)."""
    session.info["outbox_emitted"] = True
    session.info.setdefault("outbox_topics", set()).update(topics)


@dataclass(frozen=True)
class Message:
    topic: str
    payload: dict[str, Any]
    at: datetime | None = None


_MESSAGES: Table = OutboxMessage.__table__  # type: ignore[assignment]
# Core, prepared (db/prepared.py): the ORM's bulk path cost more than the INSERT.
_INSERT_MESSAGES = Prepared(
    insert(_MESSAGES).values(bound("topic", "payload", "created_at", "available_at", "attempts"))
)


async def emit_many(session: AsyncSession, messages: list[Message]) -> None:
    """Queue several messages in one INSERT (same transaction rules as `emit`)."""
    if not messages:
        return
    now = utcnow()
    await _INSERT_MESSAGES.run_many(
        session,
        [
            {"topic": m.topic, "payload": m.payload, "created_at": now, "available_at": m.at or now, "attempts": 0}
            for m in messages
        ],
    )
    note_emitted(session, {m.topic for m in messages})


# A wake-up for a sweep (expire what is due...), written only when none is pending for its
# time: INSERT ... SELECT ... WHERE NOT EXISTS, one statement either way.
_INSERT_WAKE = Prepared(
    insert(_MESSAGES).from_select(
        ["topic", "payload", "created_at", "available_at", "attempts", "last_error"],
        select(
            bindparam("b_topic", type_=String()),
            bindparam("b_payload", type_=JSON()),
            bindparam("b_created_at", type_=UTCDateTime()),
            bindparam("b_at", type_=UTCDateTime()),
            literal(0),
            literal(""),
        ).where(
            ~exists().where(
                _MESSAGES.c.topic == bindparam("b_topic"),
                _MESSAGES.c.available_at == bindparam("b_at"),
                _MESSAGES.c.processed_at.is_(None),
            )
        ),
    )
)
WAKE_WINDOW = timedelta(seconds=10)
_FAR_ENOUGH = timedelta(minutes=1)  # longer than any group commit's transaction lasts


def window_end(at: datetime, every: timedelta = WAKE_WINDOW) -> datetime:
    """The end of the `every`-long window (counted from the epoch) that holds `at`."""
    step = every.total_seconds()
    return datetime.fromtimestamp(math.ceil(at.timestamp() / step) * step, UTC)


async def emit_wake(session: AsyncSession, *, topic: str, at: datetime, every: timedelta = WAKE_WINDOW) -> None:
    """Make sure `topic`'s sweep runs by `at`, rounded up to the end of its `every`-long
    window: one message per window however many callers ask (a checkout's hold, which
    expires 15 minutes later, used to queue a message of its own; each then ran the whole
    sweep again). The sweep must take everything due at its time, not one item."""
    end, now = window_end(at, every), utcnow()
    # In a group commit, once a member found the wake pending, the members after it need not
    # look again: nobody takes it during the group's transaction (it is due a minute or more
    # from now; runners lease due messages only). 2 statements a group instead of one a
    # checkout (whose hold ends 15 minutes on).
    far = end - now > _FAR_ENOUGH
    facts = session.group_facts if far and isinstance(session, MemberSession) else None
    known = ("wake pending", topic, end)
    if facts is not None and known in facts:
        return
    written = await _INSERT_WAKE.rowcount(
        session, {"b_topic": topic, "b_payload": {}, "b_created_at": now, "b_at": end}
    )
    if written:
        note_emitted(session, (topic,))
    if facts is not None:
        mine: set[object] = session.info.setdefault("wakes_written", set())
        if written:
            mine.add(known)
        elif known not in mine:  # found, and not this member's own (undoable) write
            facts[known] = True


# The most ids one statement names; a longer list is taken in chunks.
_MOST_IDS = 128


class _ForIds:
    """A statement over a list of ids, as `id IN (:i0, ..., :iN)` of a fixed size (the list
    padded with its last id: the same rows match), so it is prepared once per size (a power
    of two) instead of an expanding IN list, which a `Prepared` cannot take."""

    def __init__(self, build: Callable[[list[BindParameter[int]]], Executable]) -> None:
        self._build = build
        self._by_size: dict[int, Prepared] = {}

    def chunks(self, ids: list[int], params: Mapping[str, Any]) -> list[tuple[Prepared, dict[str, Any]]]:
        out: list[tuple[Prepared, dict[str, Any]]] = []
        for start in range(0, len(ids), _MOST_IDS):
            chunk = ids[start : start + _MOST_IDS]
            size = 1
            while size < len(chunk):
                size *= 2
            prepared = self._by_size.get(size)
            if prepared is None:
                prepared = self._by_size[size] = Prepared(self._build([bindparam(f"i{i}") for i in range(size)]))
            values = dict(params)
            last = len(chunk) - 1
            values.update({f"i{i}": chunk[min(i, last)] for i in range(size)})
            out.append((prepared, values))
        return out

    async def rows(self, session: AsyncSession, ids: list[int], params: Mapping[str, Any]) -> list[Any]:
        found: list[Any] = []
        for prepared, values in self.chunks(ids, params):
            found += await prepared.rows(session, values)
        return found

    async def run(self, session: AsyncSession, ids: list[int], params: Mapping[str, Any]) -> None:
        for prepared, values in self.chunks(ids, params):
            await prepared.rowcount(session, values)


# The runner's statements, built once: building one cost about as much CPU as running it.
_DUE = (
    select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.payload, OutboxMessage.available_at)
    .where(OutboxMessage.processed_at.is_(None), OutboxMessage.available_at <= bindparam("now"))
    .order_by(OutboxMessage.id)
    .limit(bindparam("batch"))
)
# Leasing and marking done run in write transactions: prepared, on the table (Core).
_LEASE = _ForIds(
    lambda ids: (
        update(_MESSAGES)
        .where(
            _MESSAGES.c.id.in_(ids),
            _MESSAGES.c.processed_at.is_(None),
            _MESSAGES.c.available_at <= bindparam("now"),
        )
        .values(available_at=bindparam("lease_until"), attempts=_MESSAGES.c.attempts + 1)
        .returning(_MESSAGES.c.id)
    )
)
_DONE = _ForIds(lambda ids: update(_MESSAGES).where(_MESSAGES.c.id.in_(ids)).values(processed_at=bindparam("done_at")))
_INSERT = Prepared(
    insert(_MESSAGES).values(
        topic=bindparam("topic"), payload=bindparam("payload"), available_at=bindparam("available_at")
    )
)


def topic_names(handlers: Handlers) -> list[str]:
    """Every topic a runner with these handlers takes: each topic and its fan-out copies."""
    names: list[str] = []
    for topic, consumers in handlers.items():
        names.append(topic)
        if isinstance(consumers, tuple):
            names += [f"{topic}{FANOUT}{index}" for index in range(len(consumers))]
    return names


class OutboxRunner:
    """Polls for due messages and hands each to its topic's handler.

    `wake()` after a commit makes delivery immediate; the poll interval bounds the delay
    for messages written by other processes or scheduled for later.
    """

    def __init__(
        self,
        state: Any,
        handlers: Handlers,
        *,
        poll_seconds: float = 0.5,
        batch: int = 100,
        concurrency: int = 16,
        own_topics_only: bool = False,
        mark_done_with_next_lease: bool = False,
    ) -> None:
        """`own_topics_only`: claim only the messages of `handlers`' topics (their fan-out
        copies included), leaving the rest to runners in other processes; otherwise every
        due message is claimed, and one of a topic nobody handles is logged and dropped.
        `mark_done_with_next_lease`: the loop marks a batch done in the transaction that
        leases the next one (see `run_once`), for a process of its own (`passerelle
        worker`), whose every write transaction makes the server's requests wait. Inside
        the server it measured slower (~5 %, bench checkout): left off there."""
        self.state = state
        self.handlers = handlers
        self.own_topics_only = own_topics_only
        self._topics = frozenset(topic_names(handlers))
        # Through a function, so that SQLite's planner never trades `processed_at`'s index (the
        # few messages not done) for `topic`'s (every message ever sent on these topics).
        own = func.coalesce(OutboxMessage.topic, "").in_(topic_names(handlers))
        self._due = _DUE.where(own) if own_topics_only else _DUE
        first = [topic for topic, consumer in handlers.items() if isinstance(consumer, Grouped) and consumer.first]
        if first:
            # Leased first too: behind a backlog of mails, a batch of the oldest messages
            # would otherwise hold none of the payments the buyers wait for.
            urgent = case((func.coalesce(OutboxMessage.topic, "").in_(first), 0), else_=1)
            self._due = self._due.order_by(None).order_by(urgent, OutboxMessage.id)
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.concurrency = concurrency
        self.mark_done_with_next_lease = mark_done_with_next_lease
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Handled by the loop, marked done with the next batch's lease (run_once).
        self._done_later: list[int] = []

    def wake(self) -> None:
        self._wake.set()

    def takes_any(self, topics: Iterable[str] | None) -> bool:
        """Whether messages of `topics` (None: not known) may be for this runner: a runner
        of its own topics only is not woken for the others (the server's, for the festival
        engine, polled after every buying group: ~1 % of its main thread in bench checkout)."""
        return topics is None or not self.own_topics_only or not self._topics.isdisjoint(topics)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-runner")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                handled = await self.run_once(mark_done_now=not self.mark_done_with_next_lease)
                if handled == 0:
                    await self._mark_done_later()
            except Exception:  # noqa: BLE001 - the runner must survive a bad batch
                log.exception("outbox batch failed")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                self._wake.clear()
        await self._mark_done_later()

    async def _mark_done_later(self) -> None:
        """Mark done what the loop handled and left for the next lease, now."""
        if self._done_later:
            done = self._done_later

            async def mark(session: AsyncSession) -> None:
                await _DONE.run(session, done, {"done_at": utcnow()})

            await self.state.db.write_with_requests(mark)
            self._done_later = []

    async def run_once(self, *, mark_done_now: bool = True) -> int:
        """Handle the due messages once; returns how many were handled. Tests call this directly.

        The batch is claimed in one write transaction (not one per message), then its
        handlers run concurrently, at most `concurrency` at a time: the messages are
        independent (several worker processes may already run them side by side).

        The handled messages are then marked done in a write transaction of their own, or,
        with `mark_done_now=False` (the runner's loop, busy), in the one that leases the
        next batch: one write transaction per batch instead of two. Each holds SQLite's one
        writer for an fsync at least, while the server's requests wait. A message handled
        but not yet marked stays leased meanwhile; should the process die first, it is
        delivered again once its lease runs out, as after any crash (handlers are
        idempotent)."""
        now = self.state.clock.now()
        async with self.state.db.read_sessions() as session:
            due = list((await session.execute(self._due, {"now": now, "batch": self.batch})).all())
        if not due:
            return 0
        claimed = await self._claim(due, now)
        slots = asyncio.Semaphore(self.concurrency)
        done: list[int] = []

        async def handle(message_id: int, topic: str, payload: dict[str, Any]) -> None:
            async with slots:
                if await self._run_handler(message_id, topic, payload):
                    done.append(message_id)

        async def handle_group(grouped: Grouped, chunk: list[tuple[int, str, dict[str, Any]]]) -> None:
            async with slots:
                done.extend(await self._run_group(grouped, chunk))

        singles: list[tuple[int, str, dict[str, Any]]] = []
        groups: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        for message_id, topic, payload, _ in due:
            if message_id in claimed:
                consumer = self._handler(topic)
                if isinstance(consumer, Grouped):
                    groups.setdefault(topic, []).append((message_id, topic, payload))
                else:
                    singles.append((message_id, topic, payload))
        first: list[Coroutine[Any, Any, None]] = []
        work: list[Coroutine[Any, Any, None]] = [handle(m, t, p) for m, t, p in singles]
        for topic, messages in groups.items():
            grouped = self._handler(topic)
            assert isinstance(grouped, Grouped)
            chunks = [
                handle_group(grouped, messages[i : i + grouped.size]) for i in range(0, len(messages), grouped.size)
            ]
            (first if grouped.first else work).extend(chunks)
        # In this order they take the `concurrency` slots: with one (SQLite), one after the other.
        await asyncio.gather(*first, *work)
        self._done_later += done
        if mark_done_now:
            await self._mark_done_later()
        return len(due)

    def _handler(self, topic: str) -> Handler | Grouped | tuple[Handler | Grouped, ...] | None:
        base, _, index = topic.partition(FANOUT)
        found = self.handlers.get(base)
        if index and isinstance(found, tuple):
            return found[int(index)] if index.isdigit() and int(index) < len(found) else None
        return found

    async def _claim(self, due: list[Any], now: datetime) -> set[int]:
        """Lease the batch in one transaction: only one runner claims a message, even with
        several worker processes (a leased message is no longer due). A fan-out topic gets
        its per-consumer copies here, and is then done: the copies carry the work."""
        handled, self._done_later = self._done_later, []

        async def lease(session: AsyncSession) -> set[int]:
            if handled:
                await _DONE.run(session, handled, {"done_at": utcnow()})
            return await self._lease(session, due, now)

        try:
            claimed: set[int] = await self.state.db.write_with_requests(lease)
        except BaseException:
            self._done_later = handled + self._done_later  # not marked: next time
            raise
        return claimed

    async def _lease(self, session: AsyncSession, due: list[Any], now: datetime) -> set[int]:
        """Lease `due` in `session`'s transaction; fan a multi-consumer topic out into its copies."""
        leased = await _LEASE.rows(session, [m for m, *_ in due], {"now": now, "lease_until": now + LEASE})
        claimed = {row[0] for row in leased}
        fanned: list[int] = []
        copies: list[dict[str, Any]] = []
        for message_id, topic, payload, available_at in due:
            consumers = self._handler(topic)
            if message_id in claimed and isinstance(consumers, tuple):
                fanned.append(message_id)
                # Due when the original was (an injected clock in tests may lag the wall clock).
                due_at = available_at or utcnow()
                copies += [
                    {"topic": f"{topic}{FANOUT}{i}", "payload": payload, "available_at": due_at}
                    for i in range(len(consumers))
                ]
        if copies:
            await _INSERT.run_many(session, copies)
            await _DONE.run(session, fanned, {"done_at": utcnow()})
        return claimed

    async def _run_handler(self, message_id: int, topic: str, payload: dict[str, Any]) -> bool:
        """True when the message is done with (handled, or nobody handles its topic)."""
        handler = self._handler(topic)
        if isinstance(handler, tuple):
            return False  # marked done with its copies, in the claim
        if isinstance(handler, Grouped):  # a group of one
            return bool(await self._run_group(handler, [(message_id, topic, payload)]))
        if handler is None:
            log.warning("no handler for outbox topic %s", topic)
            return True
        try:
            await handler(self.state, payload)
        except Exception as error:  # noqa: BLE001 - retried with backoff
            log.exception("outbox handler %s failed for message %s", topic, message_id)
            await self._retry_later(message_id, repr(error))
            return False
        return True

    async def _run_group(self, grouped: Grouped, chunk: list[tuple[int, str, dict[str, Any]]]) -> list[int]:
        """The ids of the chunk's messages that are done; the others are retried later."""
        try:
            outcomes = await grouped.handle(self.state, [payload for _, _, payload in chunk])
        except Exception as error:  # noqa: BLE001 - the whole chunk failed: each is retried
            outcomes = [error] * len(chunk)
        done: list[int] = []
        for (message_id, topic, _), outcome in zip(chunk, outcomes, strict=True):
            if outcome is None:
                done.append(message_id)
            else:
                log.error("outbox handler %s failed for message %s: %r", topic, message_id, outcome)
                await self._retry_later(message_id, repr(outcome))
        return done

    async def _retry_later(self, message_id: int, error: str) -> None:
        async with self.state.db.writing() as session:
            message = await session.get(OutboxMessage, message_id)
            if message is None:
                return
            message.last_error = error[:2000]
            if message.attempts < MAX_ATTEMPTS:
                message.available_at = utcnow() + timedelta(seconds=2**message.attempts)
            else:  # given up: kept with its last error, for the operators' console
                message.processed_at = message.gave_up_at = utcnow()
                log.error(
                    "outbox gave message %s (%s) up after %s attempts", message_id, message.topic, message.attempts
                )
