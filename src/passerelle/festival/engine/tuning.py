"""Garbage-collector settings for a process that holds a shard.

A shard keeps millions of small tuples alive (reservations, keys). CPython's default
collector would rescan them every few thousand allocations; freezing what exists at start
and raising the first threshold keeps collections rare without turning them off.
"""

from __future__ import annotations

import gc

FIRST_GENERATION_THRESHOLD = 200_000


def tune_collector() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(FIRST_GENERATION_THRESHOLD, 50, 100)
