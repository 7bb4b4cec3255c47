"""Token-bucket rate limits, in memory for one process.

The Redis-backed limiter for scale-out implements the same `RateLimiter` protocol.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol


class RateLimiter(Protocol):
    def allow(self, key: str, *, cost: float = 1.0) -> tuple[bool, float]:
        """(allowed, seconds until a token is available)."""
        ...


class MemoryTokenBucket:
    """`rate` tokens per second, bursts up to `burst`. Keeps at most `max_keys` buckets (LRU)."""

    def __init__(self, *, rate: float, burst: float, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, *, cost: float = 1.0, now: float | None = None) -> tuple[bool, float]:
        """`now` (seconds, one clock per bucket set): the event's own time when it is replayed
        later, e.g. clicks read back from a log, so a backlog is not mistaken for a burst."""
        if now is None:
            now = time.monotonic()
        tokens, stamp = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - stamp) * self.rate)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        self._buckets[key] = (tokens, max(now, stamp))  # out-of-order events never refill twice
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        wait = 0.0 if allowed else (cost - tokens) / self.rate
        return allowed, wait
