"""Outbox consumers of the offers domain (register in passerelle/tasks.py)."""

from __future__ import annotations

from typing import Any

from passerelle.offers.service import expire_due


async def expire_due_offers(state: Any, payload: dict[str, Any]) -> None:
    """Scheduled at an offer's `expires_at`: record it expired if nobody acted in time."""
    async with state.db.writing() as session:
        await expire_due(session, now=state.clock.now())
