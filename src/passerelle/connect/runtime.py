"""What the program keeps in memory per process: the click recorder and the matching index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from passerelle.connect.clicks import ClickRecorder
from passerelle.db.engine import Database

if TYPE_CHECKING:
    from passerelle.config import Settings
    from passerelle.connect.matching import MatchIndex


@dataclass
class ConnectRuntime:
    recorder: ClickRecorder
    return_window_days: int = 14
    matcher: MatchIndex | None = field(default=None)

    @classmethod
    def create(cls, db: Database, settings: Settings) -> ConnectRuntime:
        recorder = ClickRecorder(
            db, ip_rate=settings.connect_clicks_per_ip_per_second, ip_burst=settings.connect_click_burst
        )
        return cls(recorder=recorder, return_window_days=settings.connect_return_window_days)

    def start(self) -> None:
        self.recorder.start()

    async def stop(self) -> None:
        await self.recorder.stop()
