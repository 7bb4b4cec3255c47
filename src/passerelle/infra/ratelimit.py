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
        # Every claim passes here twice (address and account): kept to plain comparisons.
        if now is None:
            now = time.monotonic()
        buckets = self._buckets
        entry = buckets.pop(key, None)  # re-inserted below: the most recently used goes last
        if entry is None:
            tokens, stamp = self.burst, now
            if len(buckets) >= self.max_keys:
                buckets.popitem(last=False)
        else:
            tokens, stamp = entry
            if now > stamp:  # out-of-order events never refill twice
                tokens += (now - stamp) * self.rate
                if tokens > self.burst:
                    tokens = self.burst
                stamp = now
        if tokens >= cost:
            buckets[key] = (tokens - cost, stamp)
            return True, 0.0
        buckets[key] = (tokens, stamp)
        return False, (cost - tokens) / self.rate
