"""The single writer of a deal shard.

Claims wait in a list; the writer task takes everything waiting, applies it in memory,
makes it durable with one journal commit (in a thread, so the event loop keeps taking
claims meanwhile), then answers every claim of the batch. While a commit runs, the next
batch forms by itself: there is no timer, so a lone claim at low load waits for nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from passerelle.festival.engine import rules
from passerelle.festival.engine.journal import SqliteJournal
from passerelle.festival.engine.rules import BookState, Claim, Deal

MAX_BATCH = 8192


@dataclass(frozen=True, slots=True)
class Answer:
    code: str
    seq: int = 0
    expires_at: float = 0.0


SOLD_OUT_ANSWER = Answer(rules.SOLD_OUT)
# Refusals carry no data: one shared answer object per code.
_CODES = {
    code: Answer(code)
    for code in (
        rules.SOLD_OUT,
        rules.LIMIT_REACHED,
        rules.NOT_STARTED,
        rules.ENDED,
        rules.KEY_REUSED,
        rules.UNKNOWN_DEAL,
        rules.INVALID_QUANTITY,
        rules.TOO_MANY_RESERVATIONS,
    )
}


class Shard:
    def __init__(self, journal: SqliteJournal, *, clock: Callable[[], float] = time.time) -> None:
        self.journal = journal
        self.clock = clock
        self.book: BookState = journal.load()
        # Groups of claims (one from an HTTP request, thousands from a batch intake), each
        # answered through one future.
        self._waiting: list[tuple[list[Claim], asyncio.Future[list[tuple[str, int]]]]] = []
        self._waiting_claims = 0
        self._changes: list[tuple[int, int]] = []
        self._change_waiters: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batch_seconds: list[float] = []

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="deal-shard-writer")

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            self.start()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def add_deals(self, deals: list[tuple[Deal, int]]) -> None:
        """Arm deals with their stock (one durable write). Arming a known deal again keeps
        what was already taken from it."""
        stored = self.journal.stocks()
        armed: list[tuple[Deal, int]] = []
        for deal, stock in deals:
            known = self.book.deals.get(deal.deal_id)
            if known is not None:
                old_stock = stored.get(deal.deal_id, 0)
                if known.remaining + stock - old_stock < 0:
                    raise ValueError(f"deal {deal.deal_id}: stock below what is already held or sold")
                known.remaining += stock - old_stock
                known.per_buyer_limit = deal.per_buyer_limit
                known.starts_at, known.ends_at, known.hold_seconds = deal.starts_at, deal.ends_at, deal.hold_seconds
                armed.append((known, stock))
            else:
                deal.remaining = stock
                self.book.deals[deal.deal_id] = deal
                armed.append((deal, stock))
        self.journal.put_deals(armed)

    @property
    def queue_depth(self) -> int:
        """Claims waiting for a batch: what admission control watches."""
        return self._waiting_claims

    # -- claims -------------------------------------------------------------------

    def _sold_out_now(self, claim: Claim) -> bool:
        """Sold out is answered from memory, without waiting for any disk."""
        deal = self.book.deals.get(claim[0])
        if deal is None or deal.remaining > 0 or (claim[1], claim[2]) in self.book.keys:
            return False
        return deal.starts_at <= self.clock() < deal.ends_at

    async def claim(self, claim: Claim) -> Answer:
        if self._sold_out_now(claim):
            return SOLD_OUT_ANSWER
        ((code, seq),) = await self.claim_many([claim])
        return Answer(code, seq, self.book.reservations[seq][7]) if seq else _CODES[code]

    async def claim_many(self, claims: list[Claim]) -> list[tuple[str, int]]:
        """(code, reservation seq) per claim, in order, once their batch is durable."""
        self.ensure_started()
        future: asyncio.Future[list[tuple[str, int]]] = asyncio.get_running_loop().create_future()
        self._waiting.append((claims, future))
        self._waiting_claims += len(claims)
        self._wake.set()
        return await future

    async def release(self, seq: int) -> bool:
        """Put an unpaid hold back on sale (durably, in the next batch)."""
        if not rules.release(self.book, seq):
            return False
        await self._queue_change(rules.RELEASED, seq)
        return True

    async def confirm(self, seq: int) -> bool:
        if not rules.confirm(self.book, seq):
            return False
        await self._queue_change(rules.SOLD, seq)
        return True

    async def expire_due(self) -> list[int]:
        due = rules.due_for_release(self.book, self.clock())
        for seq in due:
            rules.release(self.book, seq)
            self._changes.append((rules.RELEASED, seq))
        if due:
            await self._flush_changes()
        return due

    async def _queue_change(self, status: int, seq: int) -> None:
        self._changes.append((status, seq))
        await self._flush_changes()

    async def _flush_changes(self) -> None:
        self.ensure_started()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._change_waiters.append(future)
        self._wake.set()
        await future

    # -- the writer ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting or self._changes:
                await self._one_batch()

    def _take_batch(self) -> list[tuple[list[Claim], asyncio.Future[list[tuple[str, int]]]]]:
        taken, count = 0, 0
        for claims, _ in self._waiting:
            if taken and count + len(claims) > MAX_BATCH:
                break
            taken += 1
            count += len(claims)
        batch, self._waiting = self._waiting[:taken], self._waiting[taken:]
        self._waiting_claims -= count
        return batch

    async def _one_batch(self) -> None:
        batch = self._take_batch()
        changes, self._changes = self._changes, []
        waiters, self._change_waiters = self._change_waiters, []
        started = time.perf_counter()
        now = self.clock()
        flat = [claim for claims, _ in batch for claim in claims]
        answers, rows = rules.apply_claims(self.book, flat, now)
        try:
            if rows or changes:
                await asyncio.to_thread(self.journal.commit, rows, changes)
        except BaseException as error:
            # Nothing of this batch is durable: undo it in memory and fail its claims.
            self.book = self.journal.load()
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        self.batch_seconds.append(time.perf_counter() - started)
        position = 0
        for claims, future in batch:
            size = len(claims)
            if not future.done():
                future.set_result(answers[position : position + size])
            position += size
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
