"""Outbox consumers of the orders domain."""

from __future__ import annotations

from typing import Any

from passerelle.orders.service.expiry import expire_due

SWEEP_BATCH = 500


async def expire_due_orders(state: Any, payload: dict[str, Any]) -> None:
    """One wake-up stands for every hold that ran out in its window (outbox.emit_wake): ten
    thousand of them at a thousand checkouts a second. Swept in batches, one short write
    transaction each, until a batch finds nothing left to expire."""
    while True:
        async with state.db.writing() as session:
            expired = await expire_due(session, now=state.clock.now(), limit=SWEEP_BATCH)
        if not expired:
            return
