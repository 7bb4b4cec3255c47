"""Request for quote: a buyer asks a wholesaler, the wholesaler answers, the buyer accepts
before it expires and gets an order at the quoted prices."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from passerelle.catalog.models import Sku
from passerelle.infra.clock import FrozenClock
from passerelle.merchants.models import MerchantKind
from passerelle.orders.models import Order
from passerelle.quotes import service as quotes
from passerelle.quotes.models import Quote, QuoteStatus
from passerelle.state import AppState
from tests.commerce import ADDRESS, make_buyers, pay, sku_of
from tests.factories import Actor, api_json, make_merchant, make_product, make_user


async def _stock(state: AppState, sku_id: int) -> tuple[int, int, int]:
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, sku_id)
        assert sku is not None
        return sku.stock, sku.reserved, sku.sold


class Wholesale:
    def __init__(self, seller: Actor, merchant_id: int, bolts: int, nuts: int, clock: FrozenClock) -> None:
        self.seller, self.merchant_id, self.bolts, self.nuts, self.clock = seller, merchant_id, bolts, nuts, clock


async def _wholesaler(client: httpx.AsyncClient, state: AppState) -> Wholesale:
    # A little ahead: outbox messages stamped with the real time are then already due.
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=1))
    state.clock = clock
    seller = await make_user(state)
    shop = await make_merchant(state, seller, kind=MerchantKind.wholesale, name="Visserie Lyonnaise")
    bolts = await make_product(
        state,
        shop,
        title_fr="Boulons M8",
        min_order_quantity=50,
        skus=[
            {"code": "BOLT-M8", "price_amount": 100, "stock": 1000, "tiers": [{"min_quantity": 100, "unit_amount": 80}]}
        ],
    )
    nuts = await make_product(
        state, shop, title_fr="Écrous M8", skus=[{"code": "NUT-M8", "price_amount": 50, "stock": 500}]
    )
    return Wholesale(seller, shop.id, (await sku_of(client, bolts))["id"], (await sku_of(client, nuts))["id"], clock)


async def _request(client: httpx.AsyncClient, buyer: Actor, shop: Wholesale, **extra: Any) -> dict[str, Any]:
    body = {
        "merchant_id": shop.merchant_id,
        "lines": [{"sku_id": shop.bolts, "quantity": 200}, {"sku_id": shop.nuts, "quantity": 100}],
        "message": "Livraison en une fois, merci",
        **extra,
    }
    return dict(await api_json(await client.post("/api/v1/quotes", json=body, headers=buyer.headers), 201))


async def _answer(client: httpx.AsyncClient, shop: Wholesale, quote_id: int, *, days: int = 7) -> httpx.Response:
    return await client.post(
        f"/api/v1/quotes/{quote_id}/answer",
        json={
            "lines": [{"sku_id": shop.bolts, "unit_amount": 65}, {"sku_id": shop.nuts, "unit_amount": 30}],
            "valid_until": (shop.clock.now() + timedelta(days=days)).isoformat(),
            "note": "Prix ferme",
        },
        headers=shop.seller.headers,
    )


async def _accept(client: httpx.AsyncClient, buyer: Actor, quote_id: int) -> httpx.Response:
    return await client.post(
        f"/api/v1/quotes/{quote_id}/accept",
        json={"shipping_address": ADDRESS, "payment_provider": "sandbox"},
        headers=buyer.headers,
    )


@pytest.mark.both_backends
async def test_given_an_answered_quote_when_the_buyer_accepts_and_pays_then_the_order_is_paid_at_the_quoted_prices(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await _wholesaler(client, state)
    (buyer,) = await make_buyers(state, 1)
    quote = await _request(client, buyer, shop)
    assert quote["status"] == "requested" and quote["subtotal"] is None
    inbox = await api_json(
        await client.get(
            f"/api/v1/me/merchants/{shop.merchant_id}/quotes?status=requested", headers=shop.seller.headers
        ),
        200,
    )
    assert [q["id"] for q in inbox["items"]] == [quote["id"]]

    answered = await api_json(await _answer(client, shop, quote["id"]), 200)
    assert answered["status"] == "answered"
    assert answered["subtotal"] == {"amount": 200 * 65 + 100 * 30, "currency": "EUR"}

    placed = await api_json(await _accept(client, buyer, quote["id"]), 201)
    (order,) = placed["orders"]
    # quoted prices, not the 80 tier price; plus the 4.90 domestic shipping
    assert order["total"] == {"amount": 200 * 65 + 100 * 30 + 490, "currency": "EUR"}
    assert placed["payment"]["pay_url"].startswith("/pay/sandbox/")
    assert await _stock(state, shop.bolts) == (800, 200, 0)

    await pay(client, state, placed["payment"]["id"])

    detail = await api_json(await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers), 200)
    assert detail["status"] == "paid"
    assert sorted(line["unit_price"]["amount"] for line in detail["lines"]) == [30, 65]
    assert await _stock(state, shop.bolts) == (800, 0, 200)
    assert await _stock(state, shop.nuts) == (400, 0, 100)
    final = await api_json(await client.get(f"/api/v1/quotes/{quote['id']}", headers=buyer.headers), 200)
    assert final["status"] == "accepted" and final["purchase_id"] == placed["purchase_id"]
    async with state.db.read_sessions() as session:
        assert (await session.get(Order, order["id"])).source == "quote"  # type: ignore[union-attr]


async def test_given_a_quote_past_its_validity_then_accepting_is_refused_and_nothing_is_held(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await _wholesaler(client, state)
    (buyer,) = await make_buyers(state, 1)
    quote = await _request(client, buyer, shop)
    await api_json(await _answer(client, shop, quote["id"], days=2), 200)

    shop.clock.advance(days=2, seconds=1)

    refused = await _accept(client, buyer, quote["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "quote_expired"
    assert (await client.get(f"/api/v1/quotes/{quote['id']}", headers=buyer.headers)).json()["status"] == "expired"
    assert await _stock(state, shop.bolts) == (1000, 0, 0)
    # The sweep records it; running it again changes nothing.
    async with state.db.sessions() as session:
        assert await quotes.expire_due(session, now=shop.clock.now()) == 1
        assert await quotes.expire_due(session, now=shop.clock.now()) == 0
        await session.commit()
    async with state.db.read_sessions() as session:
        assert (await session.get(Quote, quote["id"])).status == QuoteStatus.expired  # type: ignore[union-attr]


async def test_given_a_declined_or_unanswered_quote_then_it_cannot_be_accepted(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await _wholesaler(client, state)
    (buyer,) = await make_buyers(state, 1)
    quote = await _request(client, buyer, shop)
    early = await _accept(client, buyer, quote["id"])
    assert early.status_code == 409 and early.json()["code"] == "quote_not_answered"

    declined = await client.post(
        f"/api/v1/quotes/{quote['id']}/decline", json={"reason": "Rupture"}, headers=shop.seller.headers
    )
    assert declined.status_code == 200 and declined.json()["closed_by"] == "merchant"

    refused = await _accept(client, buyer, quote["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "quote_declined"
    late = await _answer(client, shop, quote["id"])
    assert late.status_code == 409 and late.json()["code"] == "quote_declined"


async def test_given_someone_else_then_the_quote_does_not_exist_for_them(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await _wholesaler(client, state)
    other_shop_owner = await make_user(state)
    await make_merchant(state, other_shop_owner, kind=MerchantKind.wholesale)
    buyer, stranger = await make_buyers(state, 2)
    quote = await _request(client, buyer, shop)

    for actor in (stranger, other_shop_owner):
        assert (await client.get(f"/api/v1/quotes/{quote['id']}", headers=actor.headers)).status_code == 404
        assert (
            await _answer(client, Wholesale(actor, 0, shop.bolts, shop.nuts, shop.clock), quote["id"])
        ).status_code == 404
        declined = await client.post(f"/api/v1/quotes/{quote['id']}/decline", json={}, headers=actor.headers)
        assert declined.status_code == 404
    inbox = await client.get(f"/api/v1/me/merchants/{shop.merchant_id}/quotes", headers=other_shop_owner.headers)
    assert inbox.status_code == 404

    # The buyer may see it but not answer it; the wholesaler may not accept it.
    assert (
        await _answer(client, Wholesale(buyer, 0, shop.bolts, shop.nuts, shop.clock), quote["id"])
    ).status_code == 403
    await api_json(await _answer(client, shop, quote["id"]), 200)
    assert (await _accept(client, stranger, quote["id"])).status_code == 404
    assert (await _accept(client, shop.seller, quote["id"])).status_code == 403


async def test_given_two_accepts_at_once_then_one_order_is_placed(client: httpx.AsyncClient, state: AppState) -> None:
    shop = await _wholesaler(client, state)
    (buyer,) = await make_buyers(state, 1)
    quote = await _request(client, buyer, shop)
    await api_json(await _answer(client, shop, quote["id"]), 200)

    responses = await asyncio.gather(*(_accept(client, buyer, quote["id"]) for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"quote_changed", "quote_already_accepted"}
    again = await _accept(client, buyer, quote["id"])
    assert again.status_code == 409 and again.json()["code"] == "quote_already_accepted"
    async with state.db.read_sessions() as session:
        orders = list((await session.execute(select(Order).where(Order.buyer_id == buyer.user.id))).scalars())
    assert len(orders) == 1
    assert await _stock(state, shop.bolts) == (800, 200, 0)


async def test_given_a_brand_store_or_a_bad_request_then_no_quote(client: httpx.AsyncClient, state: AppState) -> None:
    shop = await _wholesaler(client, state)
    brand_owner = await make_user(state)
    brand = await make_merchant(state, brand_owner, kind=MerchantKind.brand)
    (buyer,) = await make_buyers(state, 1)

    refused = await client.post(
        "/api/v1/quotes",
        json={"merchant_id": brand.id, "lines": [{"sku_id": shop.bolts, "quantity": 100}]},
        headers=buyer.headers,
    )
    assert refused.status_code == 409 and refused.json()["code"] == "quotes_wholesale_only"
    too_few = await client.post(
        "/api/v1/quotes",
        json={"merchant_id": shop.merchant_id, "lines": [{"sku_id": shop.bolts, "quantity": 10}]},
        headers=buyer.headers,
    )
    assert too_few.status_code == 422 and too_few.json()["code"] == "below_minimum_order"
    own = await client.post(
        "/api/v1/quotes",
        json={"merchant_id": shop.merchant_id, "lines": [{"sku_id": shop.nuts, "quantity": 10}]},
        headers=shop.seller.headers,
    )
    assert own.status_code == 409 and own.json()["code"] == "own_merchant"
    quote = await _request(client, buyer, shop)
    partial = await client.post(
        f"/api/v1/quotes/{quote['id']}/answer",
        json={
            "lines": [{"sku_id": shop.bolts, "unit_amount": 65}],
            "valid_until": (shop.clock.now() + timedelta(days=1)).isoformat(),
        },
        headers=shop.seller.headers,
    )
    assert partial.status_code == 422 and partial.json()["code"] == "quote_lines_mismatch"
    past = await client.post(
        f"/api/v1/quotes/{quote['id']}/answer",
        json={
            "lines": [{"sku_id": shop.bolts, "unit_amount": 65}, {"sku_id": shop.nuts, "unit_amount": 30}],
            "valid_until": (shop.clock.now() - timedelta(minutes=1)).isoformat(),
        },
        headers=shop.seller.headers,
    )
    assert past.status_code == 422 and past.json()["code"] == "invalid_valid_until"


async def test_given_a_company_member_then_they_can_ask_on_its_behalf_and_others_cannot(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await _wholesaler(client, state)
    member, outsider = await make_buyers(state, 2)
    company = await api_json(
        await client.post("/api/v1/companies", json={"name": "Garage Martin", "country": "FR"}, headers=member.headers),
        201,
    )
    quote = await _request(client, member, shop, company_id=company["id"])
    assert quote["company_id"] == company["id"]
    refused = await client.post(
        "/api/v1/quotes",
        json={
            "merchant_id": shop.merchant_id,
            "company_id": company["id"],
            "lines": [{"sku_id": shop.nuts, "quantity": 10}],
        },
        headers=outsider.headers,
    )
    assert refused.status_code == 404
