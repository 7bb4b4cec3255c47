"""Free samples: a creator requests, the merchant approves (a zero-price order shipped and
tracked by logistics) or declines; per-creator limit, campaign stock and SKU stock hold; each
side sees only its own requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from passerelle.catalog.models import Sku
from passerelle.connect.models import Campaign
from passerelle.orders.models import Order
from passerelle.state import AppState
from tests.connect.helpers import Shop, make_creator, make_shop
from tests.factories import Actor, make_merchant, make_user
from tests.logistics.helpers import event, send

ADDRESS = {"name": "Anna Dupont", "line1": "3 rue des Lilas", "postal_code": "69001", "city": "Lyon", "country": "FR"}


async def _sample_campaign(client: httpx.AsyncClient, shop: Shop, *, stock: int, limit: int = 1) -> int:
    made = await client.post(
        "/api/v1/campaigns",
        json={
            "merchant_id": shop.merchant.id,
            "kind": "sample",
            "title": "Try our serum",
            "sample_sku_id": shop.sku_id,
            "sample_stock": stock,
            "sample_limit": limit,
            "categories": ["beauty"],
        },
        headers=shop.seller.headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def _ask(client: httpx.AsyncClient, creator: Actor, campaign_id: int) -> httpx.Response:
    return await client.post(
        f"/api/v1/campaigns/{campaign_id}/samples",
        json={"address": ADDRESS, "note": "for my reel"},
        headers=creator.headers,
    )


async def _mine(client: httpx.AsyncClient, creator: Actor) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/creators/me/samples", headers=creator.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def _sku(state: AppState, sku_id: int) -> tuple[int, int]:
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, sku_id)
        assert sku is not None
        return sku.stock, sku.sold


@pytest.mark.both_backends
async def test_given_a_sample_request_when_the_merchant_approves_then_it_ships_and_the_creator_sees_it_delivered(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    campaign_id = await _sample_campaign(client, shop, stock=5)
    anna, _ = await make_creator(client, state)
    stock_before, sold_before = await _sku(state, shop.sku_id)

    asked = await _ask(client, anna, campaign_id)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert asked.json()["status"] == "requested"
    again = await _ask(client, anna, campaign_id)
    assert again.status_code == 409 and again.json()["code"] == "sample_limit_reached"

    listed = await client.get(f"/api/v1/merchants/{shop.merchant.id}/sample-requests", headers=shop.seller.headers)
    assert [r["id"] for r in listed.json()] == [request_id]

    approved = await client.post(f"/api/v1/sample-requests/{request_id}/approve", headers=shop.seller.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    order_id = approved.json()["order_id"]
    twice = await client.post(f"/api/v1/sample-requests/{request_id}/approve", headers=shop.seller.headers)
    assert twice.status_code == 409 and twice.json()["code"] == "sample_decided"

    async with state.db.read_sessions() as session:
        order = await session.get(Order, order_id)
        campaign = await session.get(Campaign, campaign_id)
        assert order is not None and campaign is not None
        assert (order.source, order.status.value, order.total_amount) == ("sample", "paid", 0)
        assert campaign.sample_stock == 4
    assert await _sku(state, shop.sku_id) == (stock_before - 1, sold_before + 1)

    shipped = await client.post(
        f"/api/v1/orders/{order_id}/shipments",
        json={"parcels": [{"weight_g": 200, "length_mm": 150, "width_mm": 100, "height_mm": 50}]},
        headers=shop.seller.headers,
    )
    assert shipped.status_code == 201, shipped.text
    assert [s["status"] for s in await _mine(client, anna)] == ["shipped"]

    arrived = event(shipped.json()["tracking_number"], "delivered", datetime.now(UTC) - timedelta(minutes=1))
    assert (await send(client, state, arrived)).status_code == 200
    assert [s["status"] for s in await _mine(client, anna)] == ["delivered"]


async def test_given_a_declined_request_then_the_creator_may_ask_again_and_stock_is_untouched(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    campaign_id = await _sample_campaign(client, shop, stock=1)
    anna, _ = await make_creator(client, state)
    before = await _sku(state, shop.sku_id)

    first = (await _ask(client, anna, campaign_id)).json()["id"]
    declined = await client.post(f"/api/v1/sample-requests/{first}/decline", headers=shop.seller.headers)
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert await _sku(state, shop.sku_id) == before

    second = await _ask(client, anna, campaign_id)
    assert second.status_code == 201, second.text
    assert [s["status"] for s in await _mine(client, anna)] == ["requested", "declined"]


async def test_given_the_last_sample_taken_when_another_is_approved_then_it_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    campaign_id = await _sample_campaign(client, shop, stock=1)
    anna, _ = await make_creator(client, state)
    bob, _ = await make_creator(client, state)
    first = (await _ask(client, anna, campaign_id)).json()["id"]
    second = (await _ask(client, bob, campaign_id)).json()["id"]

    assert (
        await client.post(f"/api/v1/sample-requests/{first}/approve", headers=shop.seller.headers)
    ).status_code == 200
    refused = await client.post(f"/api/v1/sample-requests/{second}/approve", headers=shop.seller.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "no_samples_left"
    assert [s["status"] for s in await _mine(client, bob)] == ["requested"]  # rolled back, not half-approved
    async with state.db.read_sessions() as session:
        orders = list((await session.execute(select(Order.id).where(Order.source == "sample"))).scalars())
    assert len(orders) == 1

    carol, _ = await make_creator(client, state)
    late = await _ask(client, carol, campaign_id)
    assert late.status_code == 409 and late.json()["code"] == "no_samples_left"


async def test_given_other_merchants_and_creators_then_requests_are_not_theirs_to_see_or_answer(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    campaign_id = await _sample_campaign(client, shop, stock=3)
    anna, _ = await make_creator(client, state)
    bob, _ = await make_creator(client, state)
    request_id = (await _ask(client, anna, campaign_id)).json()["id"]

    rival = await make_user(state)
    rival_shop = await make_merchant(state, rival)
    for verb in ("approve", "decline"):
        answer = await client.post(f"/api/v1/sample-requests/{request_id}/{verb}", headers=rival.headers)
        assert answer.status_code == 404
        assert (
            await client.post(f"/api/v1/sample-requests/{request_id}/{verb}", headers=anna.headers)
        ).status_code == 404
    assert (
        await client.get(f"/api/v1/merchants/{shop.merchant.id}/sample-requests", headers=rival.headers)
    ).status_code == 404
    assert (await client.get(f"/api/v1/merchants/{rival_shop.id}/sample-requests", headers=rival.headers)).json() == []
    assert await _mine(client, bob) == []

    not_sample = await _ask(client, bob, shop.campaign_id)  # an open campaign sends no samples
    assert not_sample.status_code == 404
