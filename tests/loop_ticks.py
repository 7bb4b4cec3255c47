"""Whether the event loop keeps running while something waits: a task that counts ticks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Ticks:
    count = 0


@asynccontextmanager
async def counting_ticks(every: float = 0.01) -> AsyncIterator[Ticks]:
    """`ticks.count` grows by one every `every` seconds for as long as the loop is free."""
    ticks = Ticks()

    async def tick() -> None:
        while True:
            await asyncio.sleep(every)
            ticks.count += 1

    task = asyncio.create_task(tick())
    try:
        yield ticks
    finally:
        task.cancel()
