"""Outbox consumers of the quotes domain (register in passerelle/tasks.py)."""

from __future__ import annotations

from typing import Any

from passerelle.quotes.service import expire_due


async def expire_due_quotes(state: Any, payload: dict[str, Any]) -> None:
    """Scheduled at an answer's `valid_until`: record it expired if nobody accepted it."""
    async with state.db.writing() as session:
        await expire_due(session, now=state.clock.now())
