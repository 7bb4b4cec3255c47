"""Coupons: spend X save Y across merchants, merchant coupons, usage limits under concurrency,
and a ledger that still balances (the platform pays for its own coupons)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from passerelle.accounts.models import Role
from passerelle.ledger import service as ledger
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, pay, sku_of
from tests.factories import Actor, make_merchant, make_product, make_user


def window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()}


async def platform_coupon(client: httpx.AsyncClient, state: AppState, **limits: object) -> Actor:
    operator = await make_user(state, role=Role.operator)
    made = await client.post(
        "/api/v1/operator/coupons",
        json={
            "code": "1111-MOINS15",
            "currency": "EUR",
            "min_spend_amount": 10000,
            "discount_amount": 1500,
            **limits,
            **window(),
        },
        headers=operator.headers,
    )
    assert made.status_code == 201, made.text
    return operator


@pytest.mark.both_backends
async def test_given_spend_100_save_15_across_two_merchants_then_the_discount_splits_and_the_ledger_balances(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await platform_coupon(client, state)
    seller_a, seller_b = await make_user(state), await make_user(state)
    shop_a, shop_b = await make_merchant(state, seller_a), await make_merchant(state, seller_b)
    sku_a = (await sku_of(client, await make_product(state, shop_a, price=6000)))["id"]
    sku_b = (await sku_of(client, await make_product(state, shop_b, price=4000)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku_a)
    await add_to_cart(client, buyer, sku_b)
    placed = await checkout(client, buyer, coupon_code="1111-moins15")
    assert placed.status_code == 201, placed.text
    totals = {o["merchant_id"]: o["total"]["amount"] for o in placed.json()["orders"]}
    # 60 + 40 = 100 EUR: 9.00 and 6.00 off, shipping 4.90 each still due.
    assert totals == {shop_a.id: 6000 - 900 + 490, shop_b.id: 4000 - 600 + 490}
    assert placed.json()["total"]["amount"] == sum(totals.values())
    await pay(client, state, placed.json()["payment"]["id"])
    async with state.db.read_sessions() as session:
        assert set((await ledger.total_of_all_entries(session)).values()) == {0}
        assert await ledger.balance(session, account=ledger.PROMOTIONS, currency="EUR") == 1500
        # The merchant is paid as if the buyer had paid full price (less commission).
        assert (
            -await ledger.balance(session, account=ledger.merchant_account(shop_a.id), currency="EUR")
            == 6000 + 490 - 600
        )
    order_a = next(o for o in placed.json()["orders"] if o["merchant_id"] == shop_a.id)
    refund = await client.post(
        f"/api/v1/orders/{order_a['id']}/refunds", json={"amount": totals[shop_a.id]}, headers=seller_a.headers
    )
    assert refund.status_code == 201, refund.text
    async with state.db.read_sessions() as session:
        assert set((await ledger.total_of_all_entries(session)).values()) == {0}
        assert await ledger.balance(session, account=ledger.merchant_account(shop_a.id), currency="EUR") == 0
        assert await ledger.balance(session, account=ledger.PROMOTIONS, currency="EUR") == 600


async def test_given_too_small_a_basket_or_a_used_coupon_then_clear_refusals(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await platform_coupon(client, state)
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    small = (await sku_of(client, await make_product(state, shop, price=5000)))["id"]
    big = (await sku_of(client, await make_product(state, shop, title_fr="Malle", price=20000)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, small)
    refused = await checkout(client, buyer, coupon_code="1111-MOINS15")
    assert refused.status_code == 409 and refused.json()["code"] == "coupon_not_eligible"
    await add_to_cart(client, buyer, big)
    assert (await checkout(client, buyer, coupon_code="1111-MOINS15")).status_code == 201
    await add_to_cart(client, buyer, big)
    again = await checkout(client, buyer, coupon_code="1111-MOINS15")
    assert again.status_code == 409 and again.json()["code"] == "coupon_limit_reached"
    unknown = await checkout(client, buyer, coupon_code="NOPE-000")
    assert unknown.status_code == 404


async def test_given_a_merchant_coupon_then_only_its_items_count_and_it_pays_for_it(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=3000)))["id"]
    made = await client.post(
        f"/api/v1/me/merchants/{shop.id}/coupons",
        json={"code": "MAISON-5", "currency": "EUR", "min_spend_amount": 2500, "discount_amount": 500, **window()},
        headers=seller.headers,
    )
    assert made.status_code == 201, made.text
    stranger = await make_user(state)
    other_shop = await client.post(
        f"/api/v1/me/merchants/{shop.id}/coupons",
        json={"code": "PIRATE-1", "currency": "EUR", "min_spend_amount": 100, "discount_amount": 99, **window()},
        headers=stranger.headers,
    )
    assert other_shop.status_code == 404
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    placed = await checkout(client, buyer, coupon_code="MAISON-5")
    assert placed.json()["orders"][0]["total"]["amount"] == 3000 - 500 + 490
    await pay(client, state, placed.json()["payment"]["id"])
    async with state.db.read_sessions() as session:
        assert await ledger.balance(session, account=ledger.PROMOTIONS, currency="EUR") == 0
        assert (
            -await ledger.balance(session, account=ledger.merchant_account(shop.id), currency="EUR")
            == 3000 - 500 + 490 - 300
        )


@pytest.mark.both_backends
async def test_given_a_coupon_limited_to_7_uses_when_200_buyers_race_then_exactly_7_get_it(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await platform_coupon(client, state, total_limit=7)
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=12000, stock=500)))["id"]
    buyers = await make_buyers(state, 200)
    for buyer in buyers:
        await add_to_cart(client, buyer, sku)
    answers = await asyncio.gather(*(checkout(client, b, coupon_code="1111-MOINS15") for b in buyers))
    assert [a.status_code for a in answers].count(201) == 7
    assert {a.json()["code"] for a in answers if a.status_code != 201} == {"coupon_exhausted"}
