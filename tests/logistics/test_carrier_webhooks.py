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


@pytest.mark.parametrize("tamper", ["bad_signature", "wrong_secret", "stale", "missing", "future"])
async def test_given_a_forged_or_stale_event_then_it_is_refused_and_nothing_applied(
    client: httpx.AsyncClient, state: AppState, tamper: str
) -> None:
    paid = await paid_order(client, state)
    shipment = await ship(client, paid)
    body_obj = event(shipment["tracking_number"], "picked_up", datetime.now(UTC))
    if tamper == "wrong_secret":
        response = await send(client, state, body_obj, secret="not-the-secret")
    elif tamper == "future":
        response = await send(
            client, state, event(shipment["tracking_number"], "delivered", datetime.now(UTC) + timedelta(days=2))
        )
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
    assert response.json()["code"] == {
        "stale": "stale_webhook",
        "missing": "missing_signature",
        "future": "event_in_future",
    }.get(tamper, "bad_signature")
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


@pytest.mark.both_backends
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


@pytest.mark.both_backends
async def test_given_many_concurrent_single_event_webhooks_with_replays_then_each_event_is_stored_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    import asyncio

    paid = await paid_order(client, state)
    tracking = (await ship(client, paid, parcels=1))["tracking_number"]
    t0 = datetime.now(UTC) - timedelta(days=1)
    events = [event(tracking, "in_transit", t0 + timedelta(minutes=i), event_id=f"trk_c{i}") for i in range(30)]
    answers = await asyncio.gather(*(send(client, state, e) for e in events + events[:10]))
    statuses = [a.json()["status"] for a in answers]
    assert statuses.count("applied") == 30 and statuses.count("duplicate") == 10
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(TrackingEvent))).scalar_one() == 30


async def test_given_recyclable_and_plain_packaging_then_shares_and_kilograms_are_counted_per_merchant_and_platform(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.accounts.models import Role
    from tests.factories import make_user

    paid = await paid_order(client, state)
    other = await paid_order(client, state)
    mid, headers = paid.merchant.id, paid.seller.headers
    kraft = await client.post(
        f"/api/v1/me/merchants/{mid}/packaging-types",
        json={"name": "Kraft", "material": "cardboard", "recyclable": True, "weight_g": 200},
        headers=headers,
    )
    mailer = await client.post(
        f"/api/v1/me/merchants/{mid}/packaging-types",
        json={"name": "Mailer", "material": "plastic", "recyclable": False, "weight_g": 50},
        headers=headers,
    )
    await ship(client, paid, packaging_type_id=kraft.json()["id"], parcels=3)
    await client.post(
        f"/api/v1/orders/{paid.order_id}/shipments",
        json={
            "parcels": [
                {
                    "weight_g": 300,
                    "length_mm": 200,
                    "width_mm": 100,
                    "height_mm": 30,
                    "packaging_type_id": mailer.json()["id"],
                }
            ]
        },
        headers=headers,
    )
    # Another merchant cannot use this merchant's packaging, nor read its figures.
    stolen = await client.post(
        f"/api/v1/orders/{other.order_id}/shipments",
        json={
            "parcels": [
                {
                    "weight_g": 300,
                    "length_mm": 200,
                    "width_mm": 100,
                    "height_mm": 30,
                    "packaging_type_id": kraft.json()["id"],
                }
            ]
        },
        headers=other.seller.headers,
    )
    assert stolen.status_code == 404
    assert (
        await client.get(f"/api/v1/me/merchants/{mid}/logistics/packaging-stats", headers=other.seller.headers)
    ).status_code == 404
    mine = (await client.get(f"/api/v1/me/merchants/{mid}/logistics/packaging-stats", headers=headers)).json()
    assert mine["parcels"] == 4 and mine["recyclable_parcels"] == 3 and mine["recyclable_share"] == 0.75
    assert mine["packaging_kg"] == 0.65 and mine["recyclable_packaging_kg"] == 0.6
    await ship(client, other)  # no packaging type: counted, not recyclable, 0 g
    operator = await make_user(state, role=Role.operator)
    platform = (await client.get("/api/v1/operator/logistics/packaging-stats", headers=operator.headers)).json()
    assert platform["parcels"] == 5 and platform["recyclable_share"] == 0.6


async def test_given_a_bulk_shipping_request_then_the_outbox_books_each_paid_order_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.infra.outbox import OutboxMessage
    from tests.commerce import drain

    paid = await paid_order(client, state)
    other = await paid_order(client, state)  # another merchant's order: skipped
    queued = await client.post(
        f"/api/v1/me/merchants/{paid.merchant.id}/shipments/bulk",
        json={
            "order_ids": [paid.order_id, other.order_id],
            "parcel": {"weight_g": 500, "length_mm": 200, "width_mm": 150, "height_mm": 50},
        },
        headers=paid.seller.headers,
    )
    assert queued.status_code == 202 and queued.json() == {"orders": 2, "batches": 1}
    async with state.db.read_sessions() as session:
        payload = (
            await session.execute(select(OutboxMessage.payload).where(OutboxMessage.topic == "logistics.ship_batch"))
        ).scalar_one()
    await drain(state)
    from passerelle.logistics import tasks

    await tasks.ship_batch(state, payload)  # redelivered: nothing booked twice
    mine = (await client.get(f"/api/v1/orders/{paid.order_id}/shipments", headers=paid.seller.headers)).json()
    theirs = (await client.get(f"/api/v1/orders/{other.order_id}/shipments", headers=other.seller.headers)).json()
    assert len(mine) == 1 and theirs == []
    order = (await client.get(f"/api/v1/orders/{paid.order_id}", headers=paid.buyer.headers)).json()
    assert order["status"] == "shipped"
