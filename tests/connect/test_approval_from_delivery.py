"""The return window of a creator commission opens when the order is delivered, not when it is
paid: an order never delivered keeps its commission pending; a refund inside the window
reverses it; replays of the delivery message schedule nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, func, select

from passerelle.connect.models import Commission
from passerelle.connect.service import commissions
from passerelle.infra.clock import FrozenClock
from passerelle.infra.outbox import OutboxMessage
from passerelle.ledger.models import LedgerEntry, LedgerTransaction
from passerelle.state import AppState
from tests.commerce import drain
from tests.connect.helpers import Shop, buy, click, deliver, make_creator, make_link, make_shop


async def _sale(client: httpx.AsyncClient, state: AppState) -> tuple[Shop, int]:
    shop = await make_shop(client, state, price=10000, rate_bp=1000)
    creator, _ = await make_creator(client, state)
    await click(client, await make_link(client, creator, shop))
    await state.connect.recorder.flush()
    _, order_id = await buy(client, state, shop)
    return shop, order_id


async def _commission(state: AppState, order_id: int) -> Commission:
    async with state.db.read_sessions() as session:
        return (await session.execute(select(Commission).where(Commission.order_id == order_id))).scalar_one()


def _clock(state: AppState) -> FrozenClock:
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=5))  # outbox rows are stamped in real time
    state.clock = clock
    return clock


@pytest.mark.both_backends
async def test_given_a_paid_order_never_delivered_when_the_old_window_passes_then_the_commission_stays_pending(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = _clock(state)
    _, order_id = await _sale(client, state)

    clock.advance(days=60)
    await drain(state)

    commission = await _commission(state, order_id)
    assert (commission.status, commission.approve_at) == ("pending", None)


@pytest.mark.both_backends
async def test_given_a_delivered_order_then_the_commission_approves_when_the_window_after_delivery_closes(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = _clock(state)
    shop, order_id = await _sale(client, state)
    clock.advance(days=10)  # ten days in transit
    delivered = clock.now()
    await deliver(client, state, shop, order_id)

    commission = await _commission(state, order_id)
    assert commission.approve_at == delivered + timedelta(days=14)

    clock.advance(days=13, hours=23)  # 24 days after payment, still inside the window after delivery
    await drain(state)
    assert (await _commission(state, order_id)).status == "pending"

    clock.advance(hours=1)
    await drain(state)
    assert (await _commission(state, order_id)).status == "approved"


async def test_given_a_delivered_order_when_it_is_refunded_inside_the_window_then_the_commission_is_reversed(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = _clock(state)
    shop, order_id = await _sale(client, state)
    await deliver(client, state, shop, order_id)
    clock.advance(days=3)

    refunded = await client.post(
        f"/api/v1/orders/{order_id}/refunds", json={"amount": 10490, "reason": "broken"}, headers=shop.seller.headers
    )
    assert refunded.status_code == 201, refunded.text
    await drain(state)
    assert (await _commission(state, order_id)).status == "reversed"

    clock.advance(days=20)
    await drain(state)
    commission = await _commission(state, order_id)
    assert (commission.status, commission.reversed_amount) == ("reversed", commission.amount)


async def test_given_the_delivery_message_replayed_then_the_approval_is_scheduled_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = _clock(state)
    shop, order_id = await _sale(client, state)
    await deliver(client, state, shop, order_id)
    first = (await _commission(state, order_id)).approve_at

    clock.advance(days=2)
    for _ in range(3):
        async with state.db.writing() as session:
            again = await commissions.schedule_approval(session, order_id=order_id, return_window_days=14)
        assert again is None

    async with state.db.read_sessions() as session:
        queued = (
            await session.execute(select(func.count()).where(OutboxMessage.topic == "connect.approve_due"))
        ).scalar_one()
    assert queued == 1
    assert (await _commission(state, order_id)).approve_at == first


async def test_given_an_order_delivered_before_its_payment_was_handled_then_accrual_schedules_the_approval(
    client: httpx.AsyncClient, state: AppState
) -> None:
    """The outbox retries consumers on their own: the delivery may be seen before the payment."""
    clock = _clock(state)
    shop, order_id = await _sale(client, state)
    async with state.db.writing() as session:  # as if orders.paid had not reached connect yet
        accrued = select(LedgerTransaction.id).where(LedgerTransaction.reference.like("connect:accrue:%"))
        await session.execute(delete(LedgerEntry).where(LedgerEntry.transaction_id.in_(accrued)))
        await session.execute(delete(LedgerTransaction).where(LedgerTransaction.reference.like("connect:accrue:%")))
        await session.execute(delete(Commission).where(Commission.order_id == order_id))
    await deliver(client, state, shop, order_id)  # nothing to date yet
    async with state.db.writing() as session:
        made = await commissions.accrue(session, order_id=order_id, now=clock.now(), return_window_days=14)
    assert len(made) == 1
    assert (await _commission(state, order_id)).approve_at == clock.now() + timedelta(days=14)
