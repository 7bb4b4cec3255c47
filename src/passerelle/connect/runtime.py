"""What the program keeps in memory per process: the click recorder, the edge's log reader
(when the nginx edge is configured) and the matching index."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from passerelle.connect.clicks import ClickRecorder, SessionUsers
from passerelle.connect.edge.ingest import EdgeIngester
from passerelle.connect.matching import MatchIndex
from passerelle.db.engine import Database
from passerelle.infra.clock import Clock

if TYPE_CHECKING:
    from passerelle.config import Settings


@dataclass
class ConnectRuntime:
    db: Database
    recorder: ClickRecorder
    return_window_days: int = 14
    payout_day: int = 1
    time_zone: str = "Europe/Paris"
    edge: EdgeIngester | None = None
    matcher: MatchIndex | None = field(default=None)
    _building: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def create(cls, db: Database, settings: Settings, *, users: SessionUsers) -> ConnectRuntime:
        recorder = ClickRecorder(
            db, ip_rate=settings.connect_clicks_per_ip_per_second, ip_burst=settings.connect_click_burst
        )
        edge = (
            EdgeIngester(path=settings.resolved_edge_log, recorder=recorder, users=users, db=db)
            if settings.connect_edge
            else None
        )
        return cls(
            db=db,
            recorder=recorder,
            edge=edge,
            return_window_days=settings.connect_return_window_days,
            payout_day=settings.connect_payout_day,
            time_zone=settings.operator_time_zone,
        )

    async def schedule_payouts(self, clock: Clock) -> None:
        """Make sure the next monthly payout run is queued (once, whatever the number of processes)."""
        from passerelle.connect.service import payouts

        async with self.db.writing() as session:
            await payouts.ensure_scheduled(session, now=clock.now(), day=self.payout_day, time_zone=self.time_zone)

    def start(self) -> None:
        self.recorder.start()
        if self.edge is not None:
            self.edge.start()
        self._start_index()  # a million creators take seconds to load: start before anyone asks

    def _start_index(self) -> None:
        self.matcher = MatchIndex()
        self._building = asyncio.create_task(self.matcher.build(self.db), name="connect-match-index")

    async def index(self) -> MatchIndex:
        if self.matcher is None:
            self._start_index()
        if self._building is not None and not self._building.done():
            await asyncio.shield(self._building)
        assert self.matcher is not None
        self.matcher.refresh_if_stale(self.db)
        return self.matcher

    async def stop(self) -> None:
        if self._building is not None and not self._building.done():
            self._building.cancel()
        if self.edge is not None:
            await self.edge.stop()  # first: its last position is flushed with its last clicks
        await self.recorder.stop()
