"""The single writer of a deal shard.

Claims wait in a list; the writer task takes everything waiting, applies it in memory,
makes it durable with one journal commit (in a thread, so the event loop keeps taking
claims meanwhile), then answers every claim of the batch. While a commit runs, the next
batch forms by itself: there is no timer, so a lone claim at low load waits for nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from passerelle.festival.engine import rules
from passerelle.festival.engine.batcher import Answers, ClaimBatcher, Group
from passerelle.festival.engine.journal import SqliteJournal
from passerelle.festival.engine.rules import BookState, Claim, Deal, HoldBatch


class Answer(NamedTuple):  # a named tuple: built once per claim, cheaper than a frozen dataclass
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


class Shard(ClaimBatcher):
    """The shard on the embedded default: state in memory, batches journaled to SQLite."""

    def __init__(self, journal: SqliteJournal, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock=clock, name="deal-shard-writer")
        self.journal = journal
        self.book: BookState = journal.load()
        # Status changes (paid, released) ride along with the next batch.
        self._changes: list[tuple[int, int]] = []
        self._change_waiters: list[asyncio.Future[None]] = []

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
        (outcome,) = await self.claim_many([claim])
        return self.answer_of(outcome)

    def claim_then(self, claim: Claim, on_answer: Callable[[Answer | None, BaseException | None], None]) -> None:
        """`claim` without a coroutine: `on_answer(answer, error)` once the claim is durable
        (at once when it is sold out)."""
        if self._sold_out_now(claim):
            on_answer(SOLD_OUT_ANSWER, None)
            return

        def answered(answers: Answers | None, error: BaseException | None) -> None:
            if answers is None:
                on_answer(None, error)
            else:
                (outcome,) = answers
                on_answer(self.answer_of(outcome), None)

        self.submit([claim], answered)

    def answer_of(self, outcome: rules.Outcome) -> Answer:
        if type(outcome) is int:
            return Answer(rules.RESERVED, outcome, self.book.reservations.expires_at(outcome))
        return _CODES[str(outcome)]

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
    #
    # Two stages overlap: while batch N is being made durable in a thread (the fsync
    # releases the GIL), batch N+1 is applied in memory. Commits stay strictly in order,
    # and N+1 is answered only after its own commit, which follows N's. If N's commit
    # fails, N+1 was computed on top of it: both are undone (reload) and both fail.

    def _has_work(self) -> bool:
        return bool(self._waiting or self._changes)

    async def _run(self) -> None:
        committing: asyncio.Task[bool] | None = None
        try:
            while True:
                if not self._has_work():
                    if committing is None:
                        await self._wake.wait()
                        self._wake.clear()
                        continue
                    # New claims may arrive before the commit ends: take them at once.
                    woken = asyncio.ensure_future(self._wake.wait())
                    await asyncio.wait((committing, woken), return_when=asyncio.FIRST_COMPLETED)
                    if woken.done():
                        self._wake.clear()
                    else:
                        woken.cancel()
                    if committing.done():
                        if not committing.result():
                            self._reload()
                        committing = None
                    continue
                prepared = self._prepare()
                if committing is not None and not await committing:
                    self._reload()
                    prepared.fail(RuntimeError("an earlier batch of this shard could not be made durable"))
                    committing = None
                    continue
                committing = asyncio.create_task(self._make_durable(prepared))
        finally:
            if committing is not None and not committing.done():
                # Stopping: let the batch in flight finish and answer its claims.
                await asyncio.shield(committing)

    def _prepare(self) -> _Prepared:
        batch = self._take_batch()
        changes, self._changes = self._changes, []
        waiters, self._change_waiters = self._change_waiters, []
        flat = batch[0][0] if len(batch) == 1 else [claim for claims, _ in batch for claim in claims]
        answers, made = rules.apply_claims(self.book, flat, self.clock())
        return _Prepared(batch, answers, made, changes, waiters, time.perf_counter())

    async def _make_durable(self, prepared: _Prepared) -> bool:
        try:
            if prepared.made.claims or prepared.changes:
                await asyncio.to_thread(self.journal.commit, prepared.made, prepared.changes)
        except BaseException as error:
            # Nothing of this batch is durable: its claims fail (the writer undoes memory).
            prepared.fail(error)
            return False
        self.batch_seconds.append(time.perf_counter() - prepared.started)
        self._answer(prepared.batch, prepared.answers)
        for waiter in prepared.waiters:
            if not waiter.done():
                waiter.set_result(None)
        return True

    def _reload(self) -> None:
        cap = self.book.max_open_per_buyer
        self.book = self.journal.load()
        self.book.max_open_per_buyer = cap


@dataclass(slots=True)
class _Prepared:
    """A batch applied in memory, waiting for its commit."""

    batch: list[Group]
    answers: Answers
    made: HoldBatch
    changes: list[tuple[int, int]]
    waiters: list[asyncio.Future[None]]
    started: float

    def fail(self, error: BaseException) -> None:
        ClaimBatcher._fail(self.batch, error)
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(error)
