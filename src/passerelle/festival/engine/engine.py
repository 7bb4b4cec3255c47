"""The claim engine as the app sees it: one shard on the embedded default, started and
stopped with the app, told about deals when they are armed."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from pathlib import Path

from passerelle.festival.engine import rules
from passerelle.festival.engine.journal import SqliteJournal
from passerelle.festival.engine.rules import Deal
from passerelle.festival.engine.shard import Answer, Shard
from passerelle.infra.clock import Clock

SWEEP_SECONDS = 1.0


def fingerprint(deal_id: int, quantity: int) -> int:
    """What makes two claims with one Idempotency-Key "the same request"."""
    return int.from_bytes(hashlib.blake2b(f"{deal_id}:{quantity}".encode(), digest_size=7).digest(), "big")


class DealEngine:
    def __init__(self, journal_path: Path, *, clock: Clock, max_open_per_buyer: int = 5) -> None:
        self.journal = SqliteJournal(journal_path)
        self.clock = clock
        self.shard = Shard(self.journal, clock=lambda: self.clock.now().timestamp())
        self.shard.book.max_open_per_buyer = max_open_per_buyer
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.shard.start()
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="deal-hold-expiry")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.shard.stop()
        self.journal.close()

    async def _sweep(self) -> None:
        """Unpaid holds go back on sale when they run out (the order expires alongside)."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            await self.shard.expire_due()

    def arm(self, deals: list[tuple[Deal, int]]) -> None:
        self.shard.add_deals(deals)

    def knows(self, deal_id: int) -> bool:
        return deal_id in self.shard.book.deals

    def remaining(self, deal_id: int) -> int:
        deal = self.shard.book.deals.get(deal_id)
        return deal.remaining if deal is not None else 0

    def counts(self, deal_id: int) -> tuple[int, int, int]:
        return rules.counts(self.shard.book, deal_id)

    @property
    def queue_depth(self) -> int:
        return self.shard.queue_depth

    async def claim(self, *, deal_id: int, buyer_id: int, key: str, quantity: int) -> Answer:
        return await self.shard.claim((deal_id, buyer_id, key, quantity, fingerprint(deal_id, quantity)))

    async def claim_many(self, claims: list[tuple[int, int, str, int]]) -> list[tuple[str, int]]:
        return await self.shard.claim_many([(d, b, k, q, fingerprint(d, q)) for d, b, k, q in claims])

    def expires_at(self, seq: int) -> float:
        return self.shard.book.reservations[seq][7]

    async def confirm(self, seq: int) -> bool:
        return await self.shard.confirm(seq)

    async def release(self, seq: int) -> bool:
        return await self.shard.release(seq)

    async def expire_due(self) -> list[int]:
        return await self.shard.expire_due()
