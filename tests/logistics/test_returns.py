"""Returns end to end: delivered -> the buyer opens a return and prints its label -> the
parcel is tracked back -> the merchant refunds; resellable units go back on sale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from passerelle.catalog.models import Sku
from passerelle.orders.models import Order, Refund
from passerelle.state import AppState
from tests.logistics.helpers import PaidOrder, event, paid_order, send, ship


async def _delivered(client: httpx.AsyncClient, state: AppState, *, days_ago: float = 1) -> PaidOrder:
    paid = await paid_order(client, state, quantity=2, stock=10)
    shipment = await ship(client, paid)
    at = datetime.now(UTC) - timedelta(days=days_ago)
    assert (await send(client, state, event(shipment["tracking_number"], "delivered", at))).status_code == 200
    return paid


async def _stock(state: AppState, sku_id: int) -> tuple[int, int]:
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, sku_id)
        assert sku is not None
        return sku.stock, sku.sold


@pytest.mark.both_backends
async def test_given_a_delivered_order_when_one_unit_comes_back_resellable_then_it_is_refunded_and_restocked(
    client: httpx.AsyncClient, state: AppState
) -> None:
    paid = await _delivered(client, state)
    stock_before, sold_before = await _stock(state, paid.sku_id)
    opened = await client.post(
        f"/api/v1/orders/{paid.order_id}/returns",
        json={"lines": [{"line_id": paid.line_id, "quantity": 1}], "reason": "too small"},
        headers=paid.buyer.headers,
    )
    assert opened.status_code == 201, opened.text
    ret = opened.json()
    assert ret["status"] == "label_issued"
    label = await client.get(ret["label_url"], headers=paid.buyer.headers)
    assert label.status_code == 200 and label.content.startswith(b"%PDF")

    # Asking for more than is left to return is refused while this return is open.
    again = await client.post(
        f"/api/v1/orders/{paid.order_id}/returns",
        json={"lines": [{"line_id": paid.line_id, "quantity": 2}]},
        headers=paid.buyer.headers,
    )
    assert again.status_code == 422 and again.json()["code"] == "invalid_quantity"

    now = datetime.now(UTC)
    for kind, hours in (("picked_up", 0), ("in_transit", 5), ("delivered", 20)):
        at = now - timedelta(hours=24 - hours)
        assert (await send(client, state, event(ret["tracking_number"], kind, at))).status_code == 200
    listed = (await client.get(f"/api/v1/orders/{paid.order_id}/returns", headers=paid.seller.headers)).json()
    assert listed[0]["status"] == "received"

    # The buyer cannot refund themselves; the seller can, once.
    assert (
        await client.post(f"/api/v1/returns/{ret['id']}/refund", json={}, headers=paid.buyer.headers)
    ).status_code == 403
    refunded = await client.post(
        f"/api/v1/returns/{ret['id']}/refund", json={"resellable": True}, headers=paid.seller.headers
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded" and refunded.json()["refund_id"]
    twice = await client.post(f"/api/v1/returns/{ret['id']}/refund", json={}, headers=paid.seller.headers)
    assert twice.status_code == 409 and twice.json()["code"] == "already_refunded"

    assert await _stock(state, paid.sku_id) == (stock_before + 1, sold_before - 1)
    async with state.db.read_sessions() as session:
        order = await session.get(Order, paid.order_id)
        refunds = list((await session.execute(select(Refund).where(Refund.order_id == paid.order_id))).scalars())
    assert order is not None and order.refunded_amount == 2500
    assert [r.amount for r in refunds] == [2500]


async def test_given_a_damaged_return_then_it_is_refunded_without_restock(
    client: httpx.AsyncClient, state: AppState
) -> None:
    paid = await _delivered(client, state)
    stock_before, _ = await _stock(state, paid.sku_id)
    ret = (
        await client.post(
            f"/api/v1/orders/{paid.order_id}/returns",
            json={"lines": [{"line_id": paid.line_id, "quantity": 2}]},
            headers=paid.buyer.headers,
        )
    ).json()
    done = await client.post(
        f"/api/v1/returns/{ret['id']}/refund", json={"lines": {str(paid.line_id): False}}, headers=paid.seller.headers
    )
    assert done.status_code == 200, done.text
    assert (await _stock(state, paid.sku_id))[0] == stock_before
    async with state.db.read_sessions() as session:
        order = await session.get(Order, paid.order_id)
    # Both units back; the shipping fee is not part of a return refund.
    assert order is not None and order.refunded_amount == 5000


async def test_given_the_window_has_closed_or_another_buyer_then_no_return_opens(
    client: httpx.AsyncClient, state: AppState
) -> None:
    paid = await _delivered(client, state, days_ago=10)
    window = await client.put(
        f"/api/v1/me/merchants/{paid.merchant.id}/logistics/settings",
        json={"return_window_days": 7},
        headers=paid.seller.headers,
    )
    assert window.status_code == 200
    late = await client.post(
        f"/api/v1/orders/{paid.order_id}/returns",
        json={"lines": [{"line_id": paid.line_id, "quantity": 1}]},
        headers=paid.buyer.headers,
    )
    assert late.status_code == 409 and late.json()["code"] == "return_window_closed"
    other = await paid_order(client, state)
    stranger = await client.post(
        f"/api/v1/orders/{paid.order_id}/returns",
        json={"lines": [{"line_id": paid.line_id, "quantity": 1}]},
        headers=other.buyer.headers,
    )
    assert stranger.status_code == 404
