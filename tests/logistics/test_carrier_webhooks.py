"""Carrier tracking webhooks: forged, stale and replayed deliveries are refused or harmless;
late and duplicate events leave the timeline in the order things happened."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from passerelle.logistics.models import TrackingEvent
from passerelle.state import AppState
from tests.logistics.helpers import event, paid_order, send, ship


@pytest.mark.parametrize("tamper", ["bad_signature", "wrong_secret", "stale", "missing"])
async def test_given_a_forged_or_stale_event_then_it_is_refused_and_nothing_applied(
    client: httpx.AsyncClient, state: AppState, tamper: str
) -> None:
    paid = await paid_order(client, state)
    shipment = await ship(client, paid)
    body_obj = event(shipment["tracking_number"], "picked_up", datetime.now(UTC))
    if tamper == "wrong_secret":
        response = await send(client, state, body_obj, secret="not-the-secret")
    elif tamper == "stale":
        response = await send(client, state, body_obj, at=int(time.time()) - 301)
    else:
        from tests.logistics.helpers import signed

        body, headers = signed(state, body_obj)
        if tamper == "bad_signature":
            headers["passerelle-signature"] = headers["passerelle-signature"][:-4] + "0000"
        else:
            del headers["passerelle-signature"]
        response = await client.post("/api/v1/logistics/carriers/sandbox/events", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == {"stale": "stale_webhook", "missing": "missing_signature"}.get(
        tamper, "bad_signature"
    )
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(TrackingEvent))).scalar_one() == 0


async def test_given_an_event_replayed_alone_and_in_a_batch_then_it_is_applied_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    paid = await paid_order(client, state)
    shipment = await ship(client, paid)
    once = event(shipment["tracking_number"], "picked_up", datetime.now(UTC), event_id="trk_replayed")
    answers = [(await send(client, state, once)).json()["status"] for _ in range(3)]
    assert answers == ["applied", "duplicate", "duplicate"]
    batch = await send(client, state, {"events": [once, once]})
    assert batch.json()["applied"] == 0 and batch.json()["duplicates"] == 2
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(TrackingEvent))).scalar_one() == 1


async def test_given_late_and_duplicate_events_then_the_timeline_follows_occurred_at_and_delivery_moves_the_order(
    client: httpx.AsyncClient, state: AppState
) -> None:
    paid = await paid_order(client, state)
    shipment = await ship(client, paid)
    tracking = shipment["tracking_number"]
    t0 = datetime.now(UTC) - timedelta(days=2)
    picked = event(tracking, "picked_up", t0)
    transit = event(tracking, "in_transit", t0 + timedelta(hours=10))
    out = event(tracking, "out_for_delivery", t0 + timedelta(hours=30))
    delivered = event(tracking, "delivered", t0 + timedelta(hours=34))
    # Arrival order: delivered first, then a duplicate, then the older ones (late).
    for body in (delivered, delivered, out, picked, {"events": [transit, picked]}):
        assert (await send(client, state, body)).status_code == 200
    shipments = (await client.get(f"/api/v1/orders/{paid.order_id}/shipments", headers=paid.buyer.headers)).json()
    (only,) = shipments
    assert [e["kind"] for e in only["events"]] == ["picked_up", "in_transit", "out_for_delivery", "delivered"]
    assert only["status"] == "delivered"
    assert only["delivered_at"] is not None
    order = (await client.get(f"/api/v1/orders/{paid.order_id}", headers=paid.buyer.headers)).json()
    assert order["status"] == "delivered"
    # A late "in transit" after delivery does not take the status back.
    late = event(tracking, "in_transit", t0 + timedelta(hours=20))
    assert (await send(client, state, late)).json()["status"] == "applied"
    again = (await client.get(f"/api/v1/orders/{paid.order_id}/shipments", headers=paid.buyer.headers)).json()[0]
    assert again["status"] == "delivered"
    assert len(again["events"]) == 5


async def test_given_another_merchant_or_buyer_then_the_shipments_are_not_found(
    client: httpx.AsyncClient, state: AppState
) -> None:
    paid = await paid_order(client, state)
    shipment = await ship(client, paid)
    other = await paid_order(client, state)
    for actor in (other.seller, other.buyer):
        listed = await client.get(f"/api/v1/orders/{paid.order_id}/shipments", headers=actor.headers)
        assert listed.status_code == 404
        label = await client.get(f"/api/v1/shipments/{shipment['id']}/label.pdf", headers=actor.headers)
        assert label.status_code == 404
    mine = await client.get(f"/api/v1/shipments/{shipment['id']}/label.pdf", headers=paid.seller.headers)
    assert mine.status_code == 200 and mine.content.startswith(b"%PDF")
    slip = await client.get(f"/api/v1/orders/{paid.order_id}/packing-slip.pdf", headers=paid.seller.headers)
    assert slip.status_code == 200 and slip.content.startswith(b"%PDF")
    assert (
        await client.get(f"/api/v1/orders/{paid.order_id}/packing-slip.pdf", headers=paid.buyer.headers)
    ).status_code == 403
