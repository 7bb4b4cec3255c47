"""Group commit for carrier events: each webhook request hands its authenticated events to
one writer task and waits; the writer takes everything waiting (up to MAX_EVENTS), applies
it in one transaction, commits once, then answers each request with its events' outcomes.
An event is acknowledged only once durable. With SQLite's one fsync per commit, this is
what lets one-event-per-request carriers go faster than one commit per event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from passerelle.db.engine import Database
from passerelle.logistics.carriers.base import CarrierEvent
from passerelle.logistics.service.tracking import apply_events

MAX_EVENTS = 5000

Group = tuple[str, list[CarrierEvent], "asyncio.Future[list[str]]"]


class EventBatcher:
    def __init__(
        self, *, db: Database, signing_secret: str, clock: Callable[[], datetime], on_commit: Callable[[], None]
    ) -> None:
        self.db = db
        self.signing_secret = signing_secret
        self.clock = clock
        self.on_commit = on_commit
        self._waiting: list[Group] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, carrier: str, events: list[CarrierEvent]) -> list[str]:
        """One outcome per event (applied | duplicate | unknown_parcel), once committed."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="tracking-ingest")
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._waiting.append((carrier, events, future))
        self._wake.set()
        return await future

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _take(self) -> list[Group]:
        taken, count = 0, 0
        for _carrier, events, _future in self._waiting:
            if taken and count + len(events) > MAX_EVENTS:
                break
            taken += 1
            count += len(events)
        batch, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return batch

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                await self._one_batch(self._take())

    async def _one_batch(self, batch: list[Group]) -> None:
        live = [group for group in batch if not group[2].done()]  # a request may have gone
        answers: dict[int, list[str]] = {}
        try:
            async with self.db.writing() as session:
                for carrier in sorted({c for c, _, _ in live}):
                    groups = [(i, events) for i, (c, events, _) in enumerate(live) if c == carrier]
                    flat = [event for _, events in groups for event in events]
                    outcomes = await apply_events(
                        session, carrier=carrier, events=flat, now=self.clock(), signing_secret=self.signing_secret
                    )
                    start = 0
                    for i, events in groups:
                        answers[i] = outcomes[start : start + len(events)]
                        start += len(events)
                emitted = bool(session.info.pop("outbox_emitted", False))
        except Exception as error:  # noqa: BLE001 - every waiting request learns it failed
            for _, _, future in live:
                if not future.done():
                    future.set_exception(error)
            return
        if emitted:
            self.on_commit()
        for i, (_, _, future) in enumerate(live):
            if not future.done():
                future.set_result(answers[i])
