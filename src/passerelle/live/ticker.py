"""Live deal countdown: one small task per running room deal polls the engine's remaining
stock and publishes it to the room when it changes, until the deal ends."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from passerelle.state import AppState

log = logging.getLogger("passerelle.live")
POLL_SECONDS = 0.3
_tasks: dict[int, asyncio.Task[None]] = {}


def follow(state: AppState, *, room_id: int, deal_id: int, ends_at: datetime, event: dict[str, Any]) -> None:
    """Start following a deal (once per deal per process)."""
    if deal_id not in _tasks or _tasks[deal_id].done():
        _tasks[deal_id] = asyncio.create_task(
            _run(state, room_id, deal_id, ends_at, event), name=f"live-deal-{deal_id}"
        )


async def _run(state: AppState, room_id: int, deal_id: int, ends_at: datetime, event: dict[str, Any]) -> None:
    last: int | None = None
    try:
        while state.live is not None and state.engine is not None:
            ended = state.clock.now() >= ends_at
            remaining = await state.engine.remaining(deal_id)
            if remaining != last or ended:
                last = remaining
                await state.live.hub.publish(room_id, {**event, "remaining": remaining, "ended": ended})
            if ended:
                return
            await asyncio.sleep(POLL_SECONDS)
    except Exception:
        log.exception("live deal %s countdown stopped", deal_id)
    finally:
        _tasks.pop(deal_id, None)
