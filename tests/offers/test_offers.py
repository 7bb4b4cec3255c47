"""C2C "make an offer": buyer and individual seller negotiate; the agreed price is checked out once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from passerelle.catalog.models import Sku
from passerelle.infra.clock import FrozenClock
from passerelle.infra.outbox import OutboxMessage
from passerelle.merchants.models import MerchantKind
from passerelle.offers import service as offers
from passerelle.offers.models import Offer, OfferStatus
from passerelle.orders.models import Order
from passerelle.state import AppState
from tests.commerce import ADDRESS, DECLINED_CARD, make_buyers, pay, sku_of
from tests.factories import Actor, api_json, make_merchant, make_product, make_user


async def _stock(state: AppState, sku_id: int) -> tuple[int, int, int]:
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, sku_id)
        assert sku is not None
        return sku.stock, sku.reserved, sku.sold


async def _one_off_item(
    client: httpx.AsyncClient, state: AppState, *, price: int = 5000
) -> tuple[Actor, int, FrozenClock]:
    # A little ahead: outbox messages stamped with the real time are then already due.
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=1))
    state.clock = clock
    seller = await make_user(state)
    shop = await make_merchant(state, seller, kind=MerchantKind.individual, name="Le grenier de Camille")
    sku = (
        await sku_of(client, await make_product(state, shop, title_fr="Veste en jean vintage", price=price, stock=1))
    )["id"]
    return seller, sku, clock


async def _offer(client: httpx.AsyncClient, buyer: Actor, sku: int, amount: int) -> httpx.Response:
    return await client.post(
        "/api/v1/offers", json={"sku_id": sku, "amount": amount, "message": "Bonjour !"}, headers=buyer.headers
    )


async def _act(client: httpx.AsyncClient, actor: Actor, offer_id: int, action: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/offers/{offer_id}/{action}", json=body, headers=actor.headers)


async def _checkout(client: httpx.AsyncClient, buyer: Actor, offer_id: int) -> httpx.Response:
    return await _act(client, buyer, offer_id, "checkout", shipping_address=ADDRESS, payment_provider="sandbox")


@pytest.mark.both_backends
async def test_given_a_countered_then_accepted_offer_then_the_buyer_pays_the_agreed_price_and_the_item_shows_sold(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller, sku, clock = await _one_off_item(client, state)
    buyer, other_buyer = await make_buyers(state, 2)

    offer = await api_json(await _offer(client, buyer, sku, 3500), 201)
    assert (offer["status"], offer["awaiting"], offer["your_turn"]) == ("open", "seller", False)
    assert offer["expires_at"].startswith((clock.now() + timedelta(hours=48)).isoformat()[:16])
    not_yet = await _act(client, buyer, offer["id"], "accept")
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "not_your_turn"

    countered = await api_json(await _act(client, seller, offer["id"], "counter", amount=4200, message="4200 ?"), 200)
    assert (countered["amount"]["amount"], countered["awaiting"], countered["rounds"]) == (4200, "buyer", 2)
    accepted = await api_json(await _act(client, buyer, offer["id"], "accept"), 200)
    assert accepted["status"] == "accepted" and accepted["amount"] == {"amount": 4200, "currency": "EUR"}
    assert [(h["made_by"], h["amount"]["amount"]) for h in accepted["history"]] == [("buyer", 3500), ("seller", 4200)]

    placed = await api_json(await _checkout(client, buyer, offer["id"]), 201)
    (order,) = placed["orders"]
    assert order["total"] == {"amount": 4200 + 490, "currency": "EUR"}
    await pay(client, state, placed["payment"]["id"])

    detail = await api_json(await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers), 200)
    assert detail["status"] == "paid" and detail["lines"][0]["unit_price"]["amount"] == 4200
    assert await _stock(state, sku) == (0, 0, 1)
    final = await api_json(await client.get(f"/api/v1/offers/{offer['id']}", headers=seller.headers), 200)
    assert (final["status"], final["item"], final["purchase_id"]) == ("ordered", "sold", placed["purchase_id"])
    twice = await _checkout(client, buyer, offer["id"])
    assert twice.status_code == 409 and twice.json()["code"] == "offer_already_used"
    late = await _offer(client, other_buyer, sku, 4000)
    assert late.status_code == 409 and late.json()["code"] == "item_sold"
    async with state.db.read_sessions() as session:
        assert (await session.get(Order, order["id"])).source == "offer"  # type: ignore[union-attr]


async def test_given_a_brand_store_item_then_offers_are_refused(client: httpx.AsyncClient, state: AppState) -> None:
    owner = await make_user(state)
    brand = await make_merchant(state, owner, kind=MerchantKind.brand)
    sku = (await sku_of(client, await make_product(state, brand, price=5000)))["id"]
    (buyer,) = await make_buyers(state, 1)
    refused = await _offer(client, buyer, sku, 3000)
    assert refused.status_code == 409 and refused.json()["code"] == "offers_c2c_only"


async def test_given_an_offer_then_only_its_two_parties_see_it_and_only_the_buyer_checks_it_out(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller, sku, _ = await _one_off_item(client, state)
    buyer, stranger = await make_buyers(state, 2)
    other_seller = await make_user(state)
    await make_merchant(state, other_seller, kind=MerchantKind.individual)
    offer = await api_json(await _offer(client, buyer, sku, 4000), 201)

    for outsider in (stranger, other_seller):
        assert (await client.get(f"/api/v1/offers/{offer['id']}", headers=outsider.headers)).status_code == 404
        for action in ("accept", "decline"):
            assert (await _act(client, outsider, offer["id"], action)).status_code == 404
        assert (await _act(client, outsider, offer["id"], "counter", amount=100)).status_code == 404
    assert (await client.get("/api/v1/offers", headers=stranger.headers)).json()["total"] == 0

    await api_json(await _act(client, seller, offer["id"], "accept"), 200)
    assert (await _checkout(client, stranger, offer["id"])).status_code == 404
    assert (await _checkout(client, seller, offer["id"])).status_code == 403
    assert await _stock(state, sku) == (1, 0, 0)
    # A seller cannot haggle with their own shop either.
    assert (await _offer(client, seller, sku, 1000)).json()["code"] == "own_item"


async def test_given_no_answer_within_48_hours_then_the_offer_expires_and_a_new_one_can_be_made(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller, sku, clock = await _one_off_item(client, state)
    (buyer,) = await make_buyers(state, 1)
    offer = await api_json(await _offer(client, buyer, sku, 4000), 201)
    second = await _offer(client, buyer, sku, 4100)
    assert second.status_code == 409 and second.json()["code"] == "offer_already_open"

    clock.advance(hours=48, seconds=1)

    late = await _act(client, seller, offer["id"], "accept")
    assert late.status_code == 409 and late.json()["code"] == "offer_expired"
    assert (await client.get(f"/api/v1/offers/{offer['id']}", headers=buyer.headers)).json()["status"] == "expired"
    fresh = await api_json(await _offer(client, buyer, sku, 4100), 201)
    assert fresh["id"] != offer["id"]
    async with state.db.read_sessions() as session:
        assert (await session.get(Offer, offer["id"])).status == OfferStatus.expired  # type: ignore[union-attr]


async def test_given_an_accepted_offer_not_checked_out_in_48_hours_then_checkout_is_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller, sku, clock = await _one_off_item(client, state)
    (buyer,) = await make_buyers(state, 1)
    offer = await api_json(await _offer(client, buyer, sku, 4000), 201)
    clock.advance(hours=47)
    await api_json(await _act(client, seller, offer["id"], "accept"), 200)  # the window restarts at acceptance
    clock.advance(hours=47)
    clock.advance(hours=2)
    refused = await _checkout(client, buyer, offer["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "offer_expired"
    async with state.db.sessions() as session:
        assert await offers.expire_due(session, now=clock.now()) == 1
        await session.commit()


async def test_given_a_declined_offer_then_no_further_move(client: httpx.AsyncClient, state: AppState) -> None:
    seller, sku, _ = await _one_off_item(client, state)
    (buyer,) = await make_buyers(state, 1)
    offer = await api_json(await _offer(client, buyer, sku, 1000), 201)
    declined = await api_json(await _act(client, seller, offer["id"], "decline"), 200)
    assert (declined["status"], declined["closed_by"]) == ("declined", "seller")
    for action, body in (("accept", {}), ("counter", {"amount": 2000})):
        refused = await _act(client, buyer, offer["id"], action, **body)
        assert refused.status_code == 409 and refused.json()["code"] == "offer_declined"
    refused = await _checkout(client, buyer, offer["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "offer_declined"
    above = await _offer(client, buyer, sku, 6000)
    assert above.status_code == 422 and above.json()["code"] == "offer_above_price"


async def test_given_an_unpaid_offer_checkout_then_the_agreement_can_be_used_again_but_never_twice_at_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller, sku, _ = await _one_off_item(client, state)
    (buyer,) = await make_buyers(state, 1)
    offer = await api_json(await _offer(client, buyer, sku, 4000), 201)
    await api_json(await _act(client, seller, offer["id"], "accept"), 200)

    responses = await asyncio.gather(*(_checkout(client, buyer, offer["id"]) for _ in range(3)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    first = next(r.json() for r in responses if r.status_code == 201)
    await pay(client, state, first["payment"]["id"], card=DECLINED_CARD)
    assert await _stock(state, sku) == (1, 0, 0)

    retried = await api_json(await _checkout(client, buyer, offer["id"]), 201)
    await pay(client, state, retried["payment"]["id"])
    assert await _stock(state, sku) == (0, 0, 1)
    async with state.db.read_sessions() as session:
        orders = list((await session.execute(select(Order.status).where(Order.buyer_id == buyer.user.id))).scalars())
    assert sorted(orders) == ["cancelled", "paid"]


async def test_given_offers_expiring_in_the_same_window_then_one_sweep_is_queued_for_them(
    client: httpx.AsyncClient, state: AppState
) -> None:
    """The sweep expires every offer due at its time: offers made within the same few
    seconds share one wake-up rather than queue one message each."""
    _, sku, clock = await _one_off_item(client, state)
    _, other_sku, _ = await _one_off_item(client, state)
    state.clock = clock
    buyers = await make_buyers(state, 2)
    for buyer, item in zip(buyers, (sku, other_sku), strict=True):
        await api_json(await _offer(client, buyer, item, 4000), 201)
    async with state.db.read_sessions() as session:
        wakes = (await session.execute(select(OutboxMessage).where(OutboxMessage.topic == "offers.expire_due"))).all()
    assert len(wakes) == 1
