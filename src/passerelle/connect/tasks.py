"""Outbox consumers of the influencer program. Each is idempotent."""

from __future__ import annotations

from typing import Any

from passerelle.connect.service import attribution, commissions, payouts
from passerelle.infra.outbox import each_alone
from passerelle.state import AppState


async def on_order_paid(state: AppState, payload: dict[str, Any]) -> None:
    order_id = int(payload["order_id"])
    # Most orders credit nobody: one read tells, and then no write transaction is opened.
    async with state.db.read_sessions() as session:
        if not await attribution.may_credit(session, order_id=order_id):
            return
    await _accrue(state, order_id)


async def on_orders_paid(state: AppState, payloads: list[dict[str, Any]]) -> list[BaseException | None]:
    """`on_order_paid` for a group of orders (outbox.Grouped): one read for all of them, then
    a write transaction only for an order some rule might credit, each on its own."""
    order_ids = [int(payload["order_id"]) for payload in payloads]
    async with state.db.read_sessions() as session:
        candidates = await attribution.may_credit_any(session, order_ids=order_ids)

    async def credit(order_id: int) -> None:
        if order_id in candidates:
            await _accrue(state, order_id)

    return await each_alone(order_ids, credit)


async def _accrue(state: AppState, order_id: int) -> None:
    async with state.db.writing() as session:
        await commissions.accrue(
            session, order_id=order_id, now=state.clock.now(), return_window_days=state.connect.return_window_days
        )


async def approve_due(state: AppState, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await commissions.approve_due(session, order_id=int(payload["order_id"]), now=state.clock.now())


async def on_order_refunded(state: AppState, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await commissions.reverse_for_order(session, order_id=int(payload["order_id"]))


async def on_order_delivered(state: AppState, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await commissions.schedule_approval(
            session, order_id=int(payload["order_id"]), return_window_days=state.connect.return_window_days
        )


async def on_status_changed(state: AppState, payload: dict[str, Any]) -> None:
    if payload.get("status") in ("cancelled", "refunded"):
        await on_order_refunded(state, payload)
    elif payload.get("status") in ("delivered", "completed"):
        await on_order_delivered(state, payload)


async def monthly_payouts(state: AppState, payload: dict[str, Any]) -> None:
    """The month's payout batches, then the next month's run scheduled (in the same transaction)."""
    settings = state.settings
    async with state.db.writing() as session:
        now = state.clock.now()
        await payouts.run_monthly(
            session, period=str(payload["period"]), now=now, threshold=settings.connect_payout_threshold
        )
        await payouts.ensure_scheduled(
            session, now=now, day=settings.connect_payout_day, time_zone=settings.operator_time_zone
        )
