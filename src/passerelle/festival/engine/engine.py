"""The claim engine as the app sees it. On the embedded default: one in-process shard
journaled to SQLite. With PASSERELLE_REDIS_URL: a Redis-backed shard, so several API
processes share the same deals. Started and stopped with the app."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from passerelle.festival.engine import rules
from passerelle.festival.engine.journal import SqliteJournal
from passerelle.festival.engine.redis_shard import RedisShard
from passerelle.festival.engine.rules import Claim, Deal
from passerelle.festival.engine.shard import Answer, Shard
from passerelle.infra.clock import Clock

SWEEP_SECONDS = 1.0
# (deal, buyer, quantity, expires_at, status)
ReservationView = tuple[int, int, int, float, int]


@functools.lru_cache(maxsize=65_536)  # a batch intake asks for the same few pairs thousands of times
def fingerprint(deal_id: int, quantity: int) -> int:
    """What makes two claims with one Idempotency-Key "the same request"."""
    return int.from_bytes(hashlib.blake2b(f"{deal_id}:{quantity}".encode(), digest_size=7).digest(), "big")


def _with_fingerprints(claims: list[tuple[int, int, str, int]]) -> list[Claim]:
    return [(d, b, k, q, fingerprint(d, q)) for d, b, k, q in claims]


class EngineInUse(RuntimeError):
    """Another process already runs the embedded engine on this data directory."""


def _lock_journal(journal_path: Path) -> int:
    """Two processes with their own shard over one journal would each sell the whole stock:
    one engine per journal, held for the process's life (the OS lets go if it dies)."""
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(journal_path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise EngineInUse(
            f"another process already runs the festival engine on {journal_path.parent}: several "
            "server processes share deals only through Redis (set PASSERELLE_REDIS_URL)"
        ) from None
    return descriptor


class DealEngine:
    def __init__(
        self, journal_path: Path, *, clock: Clock, max_open_per_buyer: int = 5, redis_url: str | None = None
    ) -> None:
        self.clock = clock
        now = lambda: self.clock.now().timestamp()  # noqa: E731 - the clock can be swapped in tests
        self.redis: RedisShard | None = (
            RedisShard(redis_url, clock=now, max_open_per_buyer=max_open_per_buyer) if redis_url else None
        )
        self._lock: int | None = None if redis_url else _lock_journal(journal_path)
        self.journal: SqliteJournal | None = None if redis_url else SqliteJournal(journal_path)
        self.local: Shard | None = None
        if self.journal is not None:
            self.local = Shard(self.journal, clock=now)
            self.local.book.max_open_per_buyer = max_open_per_buyer
        self.deal_ids: set[int] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.local is not None:
            self.local.start()
        else:
            assert self.redis is not None
            self.redis.start()
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="deal-hold-expiry")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self.local is not None:
            await self.local.stop()
        if self.journal is not None:
            self.journal.close()
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the lock
            self._lock = None
        if self.redis is not None:
            await self.redis.stop()

    async def _sweep(self) -> None:
        """Unpaid holds go back on sale when they run out (the order expires alongside)."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            with contextlib.suppress(Exception):
                await self.expire_due()

    async def arm(self, deals: list[tuple[Deal, int]]) -> None:
        self.deal_ids.update(deal.deal_id for deal, _ in deals)
        if self.local is not None:
            self.local.add_deals(deals)
        else:
            assert self.redis is not None
            await self.redis.add_deals(deals)

    async def knows(self, deal_id: int) -> bool:
        if self.local is not None:
            return deal_id in self.local.book.deals
        assert self.redis is not None
        return await self.redis.knows(deal_id)

    async def remaining(self, deal_id: int) -> int:
        if self.local is not None:
            deal = self.local.book.deals.get(deal_id)
            return deal.remaining if deal is not None else 0
        assert self.redis is not None
        return await self.redis.remaining(deal_id)

    async def counts(self, deal_id: int) -> tuple[int, int, int]:
        """(remaining, held, sold): their sum is the deal's stock."""
        if self.local is not None:
            return rules.counts(self.local.book, deal_id)
        assert self.redis is not None
        return await self.redis.counts(deal_id)

    async def reservation(self, reservation: int) -> ReservationView | None:
        if self.local is not None:
            row = self.local.book.reservations.get(reservation)
            if row is None:
                return None
            return row[1], row[2], row[5], row[7], self.local.book.status(reservation)
        assert self.redis is not None
        return await self.redis.reservation(reservation)

    @property
    def queue_depth(self) -> int:
        return self.local.queue_depth if self.local is not None else self.redis.queue_depth  # type: ignore[union-attr]

    async def claim(self, *, deal_id: int, buyer_id: int, key: str, quantity: int) -> Answer:
        claim = (deal_id, buyer_id, key, quantity, fingerprint(deal_id, quantity))
        if self.local is not None:
            return await self.local.claim(claim)
        assert self.redis is not None
        return await self.redis.claim(claim)

    def claim_then(
        self,
        *,
        deal_id: int,
        buyer_id: int,
        key: str,
        quantity: int,
        on_answer: Callable[[Answer | None, BaseException | None], None],
    ) -> bool:
        """`claim` answered through a function, on the embedded engine; False (nothing
        done) with Redis, whose batches are awaited."""
        if self.local is None:
            return False
        self.local.claim_then((deal_id, buyer_id, key, quantity, fingerprint(deal_id, quantity)), on_answer)
        return True

    async def claim_many(self, claims: list[tuple[int, int, str, int]]) -> list[rules.Outcome]:
        """One outcome per claim: a reservation id (int) or a refusal code (str)."""
        prepared = _with_fingerprints(claims)
        if self.local is not None:
            return await self.local.claim_many(prepared)
        assert self.redis is not None
        return await self.redis.claim_many(prepared)

    async def claim_answers(self, claims: list[tuple[int, int, str, int]]) -> list[Answer]:
        """`claim_many` with each outcome as an answer (its pay-by time included)."""
        prepared = _with_fingerprints(claims)
        if self.local is not None:
            answer_of = self.local.answer_of
            return [answer_of(outcome) for outcome in await self.local.claim_many(prepared)]
        assert self.redis is not None
        outcomes = await self.redis.claim_many(prepared)
        return list(await asyncio.gather(*(self.redis.answer_of(outcome) for outcome in outcomes)))

    async def confirm(self, reservation: int) -> bool:
        backend = self.local or self.redis
        assert backend is not None
        return await backend.confirm(reservation)

    async def release(self, reservation: int) -> bool:
        backend = self.local or self.redis
        assert backend is not None
        return await backend.release(reservation)

    async def expire_due(self) -> list[int]:
        if self.local is not None:
            return await self.local.expire_due()
        assert self.redis is not None
        return await self.redis.expire_due(sorted(self.deal_ids))
