"""Festivals and deals over the API: create, arm (stock leaves the SKU), list, claim."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from passerelle.accounts.models import Role
from passerelle.catalog.models import Sku
from passerelle.state import AppState
from tests.commerce import make_buyers, sku_of
from tests.factories import Actor, make_merchant, make_product, make_user


async def festival_with_deal(
    client: httpx.AsyncClient,
    state: AppState,
    *,
    stock: int = 100,
    deal_stock: int = 10,
    limit: int = 2,
    starts_in: float = -60,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    operator = await make_user(state, role=Role.operator)
    festival = await client.post(
        "/api/v1/operator/festivals",
        json={
            "name": "11.11",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=5)).isoformat(),
            "time_zone": "Europe/Paris",
        },
        headers=operator.headers,
    )
    assert festival.status_code == 201, festival.text
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=5000, stock=stock)))["id"]
    deal = await client.post(
        f"/api/v1/me/merchants/{shop.id}/deals",
        json={
            "festival_id": festival.json()["id"],
            "sku_id": sku,
            "price_amount": 2900,
            "stock": deal_stock,
            "per_buyer_limit": limit,
            "starts_at": (now + timedelta(seconds=starts_in)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat(),
        },
        headers=seller.headers,
    )
    assert deal.status_code == 201, deal.text
    armed = await client.post(f"/api/v1/me/deals/{deal.json()['id']}/arm", headers=seller.headers)
    assert armed.status_code == 200, armed.text
    return {"deal": armed.json(), "sku_id": sku, "seller": seller, "shop": shop}


async def claim(
    client: httpx.AsyncClient, buyer: Actor, deal_id: int, quantity: int = 1, key: str | None = None
) -> httpx.Response:
    headers = dict(buyer.headers)
    if key:
        headers["Idempotency-Key"] = key
    return await client.post(f"/api/v1/deals/{deal_id}/claims", json={"quantity": quantity}, headers=headers)


@pytest.mark.both_backends
async def test_given_an_armed_deal_then_it_is_listed_and_its_stock_left_the_sku(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state, stock=100, deal_stock=10)
    listing = (await client.get("/api/v1/deals?festival=current")).json()
    (item,) = listing["items"]
    assert (item["id"], item["sku_id"], item["remaining"], item["per_buyer_limit"]) == (
        setup["deal"]["id"],
        setup["sku_id"],
        10,
        2,
    )
    assert listing["festival"]["running"] is True
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, setup["sku_id"])
        assert sku is not None and (sku.stock, sku.reserved) == (90, 10)


async def test_given_a_claim_then_201_with_a_reservation_and_pay_by_and_the_counter_drops(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state)
    (buyer,) = await make_buyers(state, 1)
    answer = await claim(client, buyer, setup["deal"]["id"], 2, key="first")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "reserved" and body["quantity"] == 2 and body["pay_by"]
    again = await claim(client, buyer, setup["deal"]["id"], 2, key="first")
    assert again.status_code == 201 and again.json()["reservation_id"] == body["reservation_id"]
    reused = await claim(client, buyer, setup["deal"]["id"], 1, key="first")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    over = await claim(client, buyer, setup["deal"]["id"], 1, key="second")
    assert over.status_code == 409 and over.json()["code"] == "limit_reached"
    assert (await client.get(f"/api/v1/deals/{setup['deal']['id']}")).json()["remaining"] == 8


async def test_given_a_deal_not_started_then_not_started_and_unauthenticated_claims_401(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state, starts_in=3600)
    (buyer,) = await make_buyers(state, 1)
    early = await claim(client, buyer, setup["deal"]["id"])
    assert early.status_code == 409 and early.json()["code"] == "not_started"
    anonymous = await client.post(f"/api/v1/deals/{setup['deal']['id']}/claims", json={"quantity": 1})
    assert anonymous.status_code == 401
    bad = await client.post(f"/api/v1/deals/{setup['deal']['id']}/claims", content=b"{", headers=buyer.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    huge = await client.post(
        f"/api/v1/deals/{setup['deal']['id']}/claims", content=b" " * 20_000 + b'{"quantity":1}', headers=buyer.headers
    )
    assert huge.status_code == 413 and huge.json()["code"] == "body_too_large"
    assert huge.headers["x-content-type-options"] == "nosniff"


@pytest.mark.both_backends
async def test_given_1000_concurrent_buyers_for_100_units_then_no_oversell_and_no_buyer_over_the_limit(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state, stock=500, deal_stock=100, limit=2)
    buyers = await make_buyers(state, 1000)
    answers = await asyncio.gather(
        *(claim(client, b, setup["deal"]["id"], 1 + i % 2, key=f"k{i}") for i, b in enumerate(buyers))
    )
    won = [(b, a.json()) for b, a in zip(buyers, answers, strict=True) if a.status_code == 201]
    assert sum(body["quantity"] for _, body in won) == 100
    assert {a.json()["code"] for a in answers if a.status_code != 201} == {"sold_out"}
    assert state.engine is not None
    remaining, held, sold = await state.engine.counts(setup["deal"]["id"])
    assert (remaining, held, sold) == (0, 100, 0)
    per_buyer: dict[int, int] = {}
    for buyer, body in won:
        per_buyer[buyer.user.id] = per_buyer.get(buyer.user.id, 0) + body["quantity"]
    assert max(per_buyer.values()) <= 2


async def test_given_50_concurrent_duplicates_of_one_key_then_one_reservation(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state)
    (buyer,) = await make_buyers(state, 1)
    state.claim_account_limiter = type(state.claim_account_limiter)(rate=1000, burst=1000)  # type: ignore[call-arg]
    answers = await asyncio.gather(*(claim(client, buyer, setup["deal"]["id"], 1, key="same") for _ in range(50)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["reservation_id"] for a in answers}) == 1
    assert state.engine is not None and (await state.engine.counts(setup["deal"]["id"]))[1] == 1


async def test_given_a_scalper_then_the_open_reservation_cap_and_rate_limits_apply(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state, deal_stock=50, limit=50)
    (buyer,) = await make_buyers(state, 1)
    codes = [
        (await claim(client, buyer, setup["deal"]["id"], 1, key=f"s{i}")).json().get("code", "reserved")
        for i in range(8)
    ]
    assert codes[:5] == ["reserved"] * 5
    assert "too_many_reservations" in codes[5:]
    burst = [await claim(client, buyer, setup["deal"]["id"], 1, key=f"r{i}") for i in range(60)]
    limited = [r for r in burst if r.status_code == 429]
    assert limited and limited[0].json()["code"] == "rate_limited" and limited[0].headers["retry-after"]


async def test_given_a_deep_queue_then_busy_with_retry_after_and_a_position(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state)
    (buyer,) = await make_buyers(state, 1)
    state.settings.claim_queue_limit = 0
    busy = await claim(client, buyer, setup["deal"]["id"])
    assert busy.status_code == 429 and busy.json()["code"] == "busy"
    assert busy.headers["retry-after"] == "1" and "queue_position" in busy.json()


async def test_given_a_claim_when_paid_through_checkout_then_the_deal_unit_is_sold(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from tests.commerce import ADDRESS, pay

    setup = await festival_with_deal(client, state, stock=20, deal_stock=5)
    (buyer,) = await make_buyers(state, 1)
    reserved = (await claim(client, buyer, setup["deal"]["id"], 2, key="pay-me")).json()
    placed = await client.post(
        reserved["checkout_url"],
        json={"shipping_address": ADDRESS, "payment_provider": "sandbox"},
        headers=buyer.headers,
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()["orders"][0]
    assert order["total"]["amount"] == 2 * 2900 + 490
    twice = await client.post(reserved["checkout_url"], json={"shipping_address": ADDRESS}, headers=buyer.headers)
    assert twice.status_code == 409
    await pay(client, state, placed.json()["payment"]["id"])
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "paid"
    assert state.engine is not None and await state.engine.counts(setup["deal"]["id"]) == (3, 0, 2)
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, setup["sku_id"])
        assert sku is not None and (sku.stock, sku.reserved, sku.sold) == (15, 3, 2)
    stranger = (await make_buyers(state, 1))[0]
    other = await client.post(reserved["checkout_url"], json={"shipping_address": ADDRESS}, headers=stranger.headers)
    assert other.status_code == 404


async def test_given_a_deal_that_ended_then_its_unsold_units_go_back_to_the_sku(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.infra.clock import FrozenClock
    from tests.commerce import ADDRESS, drain, pay

    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=1))  # ahead of real time, as outbox stamps are
    state.clock = clock
    assert state.engine is not None
    state.engine.clock = clock
    setup = await festival_with_deal(client, state, stock=20, deal_stock=6, limit=3)
    deal_id = setup["deal"]["id"]
    buyer, other = await make_buyers(state, 2)
    paid = (await claim(client, buyer, deal_id, 2, key="paid")).json()
    await claim(client, other, deal_id, 1, key="left-unpaid")
    placed = await client.post(paid["checkout_url"], json={"shipping_address": ADDRESS}, headers=buyer.headers)
    await pay(client, state, placed.json()["payment"]["id"])

    clock.advance(hours=3)  # past the deal's end (2 h) and its 900 s holds
    await drain(state)

    assert (await client.get(f"/api/v1/deals/{deal_id}")).json()["status"] == "closed"
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, setup["sku_id"])
        # 20 units: 2 sold through the deal, 18 back on sale (4 never claimed, 1 hold expired).
        assert sku is not None and (sku.stock, sku.reserved, sku.sold) == (18, 0, 2)


async def test_given_paid_deal_orders_then_the_live_counters_show_gmv_orders_and_remaining(
    client: httpx.AsyncClient, state: AppState
) -> None:
    import orjson

    from tests.commerce import ADDRESS, pay

    setup = await festival_with_deal(client, state, stock=20, deal_stock=5)
    (buyer,) = await make_buyers(state, 1)
    reserved = (await claim(client, buyer, setup["deal"]["id"], 2, key="live")).json()
    placed = await client.post(reserved["checkout_url"], json={"shipping_address": ADDRESS}, headers=buyer.headers)
    await pay(client, state, placed.json()["payment"]["id"])
    stream = await client.get("/api/v1/festivals/current/live?once=true")
    assert stream.headers["content-type"].startswith("text/event-stream")
    event = next(line for line in stream.text.splitlines() if line.startswith("data: "))
    data = orjson.loads(event[6:])
    assert data["orders"] == 1
    assert data["gmv"] == {"amount": 2 * 2900 + 490, "currency": "EUR"}
    assert data["deals"] == [{"id": setup["deal"]["id"], "remaining": 3}]
