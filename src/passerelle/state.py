"""Typed application state: everything the lifespan chose once at start-up."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from passerelle.config import Settings
from passerelle.db.engine import Database
from passerelle.i18n.fx import load_table
from passerelle.infra.clock import Clock, SystemClock
from passerelle.infra.ratelimit import MemoryTokenBucket, RateLimiter
from passerelle.infra.storage import BlobStorage, LocalDiskStorage
from passerelle.money import FxTable

FX_CACHE_SECONDS = 60.0


@dataclass
class AppState:
    settings: Settings
    db: Database
    storage: BlobStorage
    clock: Clock = field(default_factory=SystemClock)
    login_limiter: RateLimiter = field(
        default_factory=lambda: MemoryTokenBucket(rate=10 / 60, burst=10)
    )
    register_limiter: RateLimiter = field(
        default_factory=lambda: MemoryTokenBucket(rate=5 / 60, burst=5)
    )
    _fx: FxTable | None = None
    _fx_loaded_at: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url),
            storage=LocalDiskStorage(settings.media_dir),
        )

    async def fx(self) -> FxTable:
        """Rates cached for a minute: display conversion must not cost a query per item."""
        if self._fx is None or time.monotonic() - self._fx_loaded_at > FX_CACHE_SECONDS:
            async with self.db.read_sessions() as session:
                self._fx = await load_table(session, base=self.settings.base_currency)
            self._fx_loaded_at = time.monotonic()
        return self._fx

    def invalidate_fx(self) -> None:
        self._fx = None
