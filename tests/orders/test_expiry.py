"""Unpaid holds expire (injected clock); a payment arriving after expiry re-checks the stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from passerelle.catalog.models import Sku
from passerelle.infra import outbox
from passerelle.infra.clock import FrozenClock
from passerelle.infra.outbox import OutboxMessage
from passerelle.orders import tasks as order_tasks
from passerelle.orders.models import OrderEvent
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, drain, make_buyers, pay, read_mails, sku_of
from tests.factories import make_merchant, make_product, make_user


async def _stock(state: AppState, sku_id: int) -> tuple[int, int, int]:
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, sku_id)
        assert sku is not None
        return sku.stock, sku.reserved, sku.sold


async def _setup(client: httpx.AsyncClient, state: AppState, *stocks: int) -> tuple[list[int], FrozenClock]:
    """SKUs of one shop, in creation (and id) order, and the clock the server now reads."""
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=1))  # ahead of real time, as outbox stamps are
    state.clock = clock
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    skus = [(await sku_of(client, await make_product(state, shop, stock=stock)))["id"] for stock in stocks]
    return skus, clock


async def test_given_an_unpaid_order_when_its_hold_expires_then_stock_returns_and_the_order_is_cancelled(
    client: httpx.AsyncClient, state: AppState
) -> None:
    (sku,), clock = await _setup(client, state, 1)
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    body = (await checkout(client, buyer)).json()
    assert await _stock(state, sku) == (0, 1, 0)

    clock.advance(minutes=14)
    await drain(state)
    assert await _stock(state, sku) == (0, 1, 0)

    clock.advance(minutes=2)
    await drain(state)
    assert await _stock(state, sku) == (1, 0, 0)
    order = (await client.get(f"/api/v1/orders/{body['orders'][0]['id']}", headers=buyer.headers)).json()
    assert order["status"] == "cancelled"
    assert order["history"][-1]["actor_kind"] == "system"


async def test_given_a_late_payment_and_stock_still_there_then_the_order_is_paid(
    client: httpx.AsyncClient, state: AppState
) -> None:
    (sku,), clock = await _setup(client, state, 1)
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    body = (await checkout(client, buyer)).json()
    clock.advance(minutes=20)
    await drain(state)
    await pay(client, state, body["payment"]["id"])
    order = (await client.get(f"/api/v1/orders/{body['orders'][0]['id']}", headers=buyer.headers)).json()
    assert order["status"] == "paid"
    assert "re-checked" in order["history"][-1]["note"]
    assert await _stock(state, sku) == (0, 0, 1)


async def test_given_a_late_payment_and_the_stock_sold_to_someone_else_then_no_oversell_and_a_refund(
    client: httpx.AsyncClient, state: AppState
) -> None:
    (sku,), clock = await _setup(client, state, 1)
    late, quick = await make_buyers(state, 2)
    await add_to_cart(client, late, sku)
    slow_body = (await checkout(client, late)).json()
    clock.advance(minutes=20)
    await drain(state)
    await add_to_cart(client, quick, sku)
    quick_body = (await checkout(client, quick)).json()
    await pay(client, state, quick_body["payment"]["id"])

    await pay(client, state, slow_body["payment"]["id"])

    order_id = slow_body["orders"][0]["id"]
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=late.headers)).json()
    assert order["status"] == "cancelled"
    assert await _stock(state, sku) == (0, 0, 1)
    async with state.db.read_sessions() as session:
        notes = [
            e.note for e in (await session.execute(select(OrderEvent).where(OrderEvent.order_id == order_id))).scalars()
        ]
    assert any("refunded in full" in n for n in notes)
    mails = read_mails(state)
    assert any(m["To"] == late.user.email and "rembours" in m.get_content() for m in mails)


async def test_given_a_late_payment_and_one_of_its_skus_sold_out_then_none_of_its_skus_is_sold(
    client: httpx.AsyncClient, state: AppState
) -> None:
    """The re-check is all or nothing: the SKU still in stock is not sold either."""
    (still_there, sold_out), clock = await _setup(client, state, 2, 1)
    assert still_there < sold_out  # moved in SKU order: the one in stock first
    late, quick = await make_buyers(state, 2)
    await add_to_cart(client, late, still_there)
    await add_to_cart(client, late, sold_out)
    slow_body = (await checkout(client, late)).json()
    clock.advance(minutes=20)
    await drain(state)
    await add_to_cart(client, quick, sold_out)
    await pay(client, state, (await checkout(client, quick)).json()["payment"]["id"])

    await pay(client, state, slow_body["payment"]["id"])

    order = (await client.get(f"/api/v1/orders/{slow_body['orders'][0]['id']}", headers=late.headers)).json()
    assert order["status"] == "cancelled"
    assert await _stock(state, still_there) == (2, 0, 0)
    assert await _stock(state, sold_out) == (0, 0, 1)


@pytest.mark.both_backends
async def test_given_holds_running_out_in_one_window_then_one_wake_up_expires_them_all(
    client: httpx.AsyncClient, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout no longer queues a message of its own for its hold's end: one wake-up per
    window of the outbox, whose sweep takes every due hold, batch after batch."""
    monkeypatch.setattr(order_tasks, "SWEEP_BATCH", 2)  # five holds: three batches
    skus, clock = await _setup(client, state, 1, 1, 1, 1, 1)
    buyers = await make_buyers(state, len(skus))
    for buyer, sku in zip(buyers, skus, strict=True):
        await add_to_cart(client, buyer, sku)
        assert (await checkout(client, buyer)).status_code == 201
    async with state.db.read_sessions() as session:
        wakes = (
            await session.execute(select(OutboxMessage.available_at).where(OutboxMessage.topic == "orders.expire_due"))
        ).scalars()
        (wake,) = list(wakes)  # one for the five, at the end of their holds' window
    hold_ends = clock.now() + timedelta(seconds=state.settings.reservation_ttl_seconds)
    assert hold_ends <= wake <= hold_ends + outbox.WAKE_WINDOW

    clock.advance(seconds=state.settings.reservation_ttl_seconds + outbox.WAKE_WINDOW.total_seconds())
    await drain(state)
    assert [await _stock(state, sku) for sku in skus] == [(1, 0, 0)] * len(skus)
