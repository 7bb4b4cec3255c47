"""What the outbox is doing, for the operators: how much background work waits, how late it
runs, and the messages given up after their last attempt, each of which can be queued again.

During a festival peak the buying requests come first and the paid orders' webhooks, mails
and commissions run behind them (docs/performance.md, Checkout): how far behind is the
figure an operator watches. A message that failed `MAX_ATTEMPTS` times is kept, with its
last error, rather than dropped: once the cause is fixed (an SMTP server back, a bug
deployed away), "retry" queues it again, and the runner takes it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.infra.outbox import FANOUT, OutboxMessage
from passerelle.infra.outbox_wake import listening_workers

GIVEN_UP_SHOWN = 50


@dataclass(frozen=True)
class TopicBacklog:
    """The messages of one topic not yet done."""

    topic: str
    due: int  # waiting for a runner now
    later: int  # leased to a runner, waiting to be retried, or scheduled for later
    retrying: int  # failed at least once (among the two above)
    oldest_due_seconds: float | None  # how long the oldest due message has waited

    @property
    def consumer(self) -> str:
        """The topic a fan-out copy serves (`orders.paid#1` -> `orders.paid`), else the topic."""
        return self.topic.split(FANOUT, 1)[0]


@dataclass(frozen=True)
class GivenUp:
    id: int
    topic: str
    attempts: int
    last_error: str
    created_at: datetime
    gave_up_at: datetime | None  # set on every message listed (the query's WHERE)


@dataclass(frozen=True)
class Consumers:
    """Who consumes the outbox: the server itself, or `passerelle worker` processes (with
    PASSERELLE_OUTBOX_PROCESS, which `passerelle serve` sets when it runs its own)."""

    in_workers: bool
    workers_listening: int | None  # on this machine; None when the server consumes it

    @property
    def missing(self) -> bool:
        """The paid orders' work waits: the outbox is left to workers and none listens here."""
        return self.in_workers and not self.workers_listening


def consumers(database_url: str, *, in_workers: bool) -> Consumers:
    return Consumers(in_workers, listening_workers(database_url) if in_workers else None)


@dataclass(frozen=True)
class OutboxHealth:
    topics: list[TopicBacklog]
    given_up: list[GivenUp]  # the latest `GIVEN_UP_SHOWN`
    given_up_total: int

    @property
    def due(self) -> int:
        return sum(topic.due for topic in self.topics)

    @property
    def oldest_due_seconds(self) -> float | None:
        ages = [topic.oldest_due_seconds for topic in self.topics if topic.oldest_due_seconds is not None]
        return max(ages) if ages else None


async def health(session: AsyncSession, *, now: datetime) -> OutboxHealth:
    """The backlog per topic (the messages not done: few, found by `processed_at`'s index)
    and the messages given up (by their partial index)."""
    is_due = OutboxMessage.available_at <= now
    backlog = await session.execute(
        select(
            OutboxMessage.topic,
            func.count().filter(is_due),
            func.count().filter(~is_due),
            func.count().filter(OutboxMessage.last_error != ""),
            func.min(OutboxMessage.available_at).filter(is_due),
        )
        .where(OutboxMessage.processed_at.is_(None))
        .group_by(OutboxMessage.topic)
        .order_by(OutboxMessage.topic)
    )
    topics = [
        TopicBacklog(
            topic=topic,
            due=due,
            later=later,
            retrying=retrying,
            oldest_due_seconds=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        )
        for topic, due, later, retrying, oldest in backlog.all()
    ]
    gave_up = OutboxMessage.gave_up_at.is_not(None)
    given_up = [
        GivenUp(*row)
        for row in await session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.topic,
                OutboxMessage.attempts,
                OutboxMessage.last_error,
                OutboxMessage.created_at,
                OutboxMessage.gave_up_at,
            )
            .where(gave_up)
            .order_by(OutboxMessage.gave_up_at.desc())
            .limit(GIVEN_UP_SHOWN)
        )
    ]
    total = (await session.execute(select(func.count()).where(gave_up))).scalar_one()
    return OutboxHealth(topics=topics, given_up=given_up, given_up_total=int(total))


async def retry(session: AsyncSession, *, message_id: int, now: datetime) -> bool:
    """Queue a given-up message again, due now, with its attempts reset (its last error is
    kept until it succeeds). False when no such message was given up (never, or already
    queued again). The runner is woken once `session` commits."""
    queued = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.gave_up_at.is_not(None))
        .values(processed_at=None, gave_up_at=None, attempts=0, available_at=now)
    )
    if queued.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.info["outbox_emitted"] = True  # wakes the runner after the commit, as emit() does
    return True
