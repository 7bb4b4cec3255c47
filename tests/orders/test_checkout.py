"""Checkout across merchants, payment by the sandbox PSP, order lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from passerelle.cart.models import Cart
from passerelle.catalog.models import Sku
from passerelle.ledger import service as ledger
from passerelle.orders.models import OrderEvent
from passerelle.state import AppState
from tests.commerce import ADDRESS, DECLINED_CARD, add_to_cart, checkout, make_buyers, pay, read_mails, sku_of
from tests.factories import make_merchant, make_product, make_user
from tests.i18n_fixtures import load_rates


async def _stock(state: AppState, sku_id: int) -> tuple[int, int, int]:
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, sku_id)
        assert sku is not None
        return sku.stock, sku.reserved, sku.sold


@pytest.mark.both_backends
async def test_given_items_from_two_merchants_when_paying_then_two_orders_are_paid_and_the_ledger_balances(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await load_rates(state)
    seller_a, seller_b = await make_user(state), await make_user(state)
    shop_a = await make_merchant(state, seller_a, name="Parfums de Grasse")
    shop_b = await make_merchant(state, seller_b, name="Faïencerie du Sud")
    sku_a = (await sku_of(client, await make_product(state, shop_a, price=4900, stock=5)))["id"]
    sku_b = (await sku_of(client, await make_product(state, shop_b, title_fr="Assiette", price=2500, stock=5)))["id"]
    (buyer,) = await make_buyers(state, 1, currency="USD")
    await add_to_cart(client, buyer, sku_a, 2)
    await add_to_cart(client, buyer, sku_b, 1)

    placed = await checkout(client, buyer)
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert {o["merchant_id"] for o in body["orders"]} == {shop_a.id, shop_b.id}
    assert all(o["status"] == "pending_payment" for o in body["orders"])
    assert body["payment"]["pay_url"].startswith("/pay/sandbox/")
    # 2 x 49.00 + 4.90 shipping, and 25.00 + 4.90, in USD at 1.0412
    assert body["total"] == {"amount": 10714 + 3113, "currency": "USD"}
    assert await _stock(state, sku_a) == (3, 2, 0)
    assert (await client.get("/api/v1/cart", headers=buyer.headers)).json()["count"] == 0

    await pay(client, state, body["payment"]["id"])

    for order in body["orders"]:
        detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
        assert detail["status"] == "paid"
        assert [h["to_status"] for h in detail["history"]] == ["pending_payment", "paid"]
        assert detail["commission"] is None  # buyers do not see the platform's cut
    assert await _stock(state, sku_a) == (3, 0, 2)
    async with state.db.read_sessions() as session:
        assert set((await ledger.total_of_all_entries(session)).values()) == {0}
        owed_a = -await ledger.balance(session, account=ledger.merchant_account(shop_a.id), currency="EUR")
        commission = await ledger.balance(session, account=ledger.COMMISSION, currency="EUR")
    assert owed_a == 10290 - 980  # 98.00 + 4.90 shipping, less 10 % of 98.00
    assert commission == -(980 + 250)


async def test_given_a_paid_order_then_e_mails_are_written_as_eml_files(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    body = (await checkout(client, buyer)).json()
    await pay(client, state, body["payment"]["id"])
    mails = read_mails(state)
    assert any(m["To"] == buyer.user.email and "confirmée" in m["Subject"] for m in mails)
    assert any(m["To"] == seller.user.email and "Nouvelle commande" in m["Subject"] for m in mails)


async def test_given_a_declined_card_then_orders_are_cancelled_and_stock_returns(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, stock=3)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku, 3)
    body = (await checkout(client, buyer)).json()
    assert await _stock(state, sku) == (0, 3, 0)
    await pay(client, state, body["payment"]["id"], card=DECLINED_CARD)
    order = (await client.get(f"/api/v1/orders/{body['orders'][0]['id']}", headers=buyer.headers)).json()
    assert order["status"] == "cancelled"
    assert await _stock(state, sku) == (3, 0, 0)
    payment = (await client.get(f"/api/v1/payments/{body['payment']['id']}")).json()
    assert payment["status"] == "failed" and payment["failure_reason"] == "card_declined"
    # The items are back in the cart, ready for another card.
    cart = (await client.get("/api/v1/cart", headers=buyer.headers)).json()
    assert [(i["sku_id"], i["quantity"]) for i in cart["items"]] == [(sku, 3)]


async def test_given_a_country_the_merchant_does_not_ship_to_then_409_and_nothing_held(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller, ships_to=("FR",))
    sku = (await sku_of(client, await make_product(state, shop, stock=2)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    refused = await checkout(client, buyer, address={**ADDRESS, "country": "JP"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_shipped_to" and refused.json()["merchant_id"] == shop.id
    assert await _stock(state, sku) == (2, 0, 0)
    assert (await client.get("/api/v1/orders", headers=buyer.headers)).json()["total"] == 0


async def test_given_more_than_the_stock_then_out_of_stock_and_nothing_half_written(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    plenty = (await sku_of(client, await make_product(state, shop, stock=50)))["id"]
    scarce = (await sku_of(client, await make_product(state, shop, title_fr="Rare", stock=1)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, plenty, 5)
    await add_to_cart(client, buyer, scarce, 2)
    refused = await checkout(client, buyer)
    assert refused.status_code == 409 and refused.json()["code"] == "out_of_stock"
    assert await _stock(state, plenty) == (50, 0, 0)
    assert (await client.get("/api/v1/cart", headers=buyer.headers)).json()["count"] == 7


async def test_given_client_sent_prices_then_they_are_ignored(client: httpx.AsyncClient, state: AppState) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=9900)))["id"]
    (buyer,) = await make_buyers(state, 1)
    sneaky = await client.post(
        "/api/v1/cart/items", json={"sku_id": sku, "quantity": 1, "price": 1}, headers=buyer.headers
    )
    assert sneaky.status_code == 422
    await add_to_cart(client, buyer, sku)
    body = (await checkout(client, buyer)).json()
    assert body["orders"][0]["total"]["amount"] == 9900 + 490


async def test_given_a_paid_order_then_the_merchant_accepts_and_ships_and_each_step_is_recorded(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    body = (await checkout(client, buyer)).json()
    order_id = body["orders"][0]["id"]
    early = await client.post(f"/api/v1/orders/{order_id}/status", json={"status": "shipped"}, headers=seller.headers)
    assert early.status_code == 409 and early.json()["code"] == "invalid_transition"
    await pay(client, state, body["payment"]["id"])

    by_buyer = await client.post(
        f"/api/v1/orders/{order_id}/status", json={"status": "accepted"}, headers=buyer.headers
    )
    assert by_buyer.status_code == 403
    for status in ("accepted", "shipped", "delivered"):
        moved = await client.post(f"/api/v1/orders/{order_id}/status", json={"status": status}, headers=seller.headers)
        assert moved.status_code == 200, moved.text
    done = await client.post(f"/api/v1/orders/{order_id}/status", json={"status": "completed"}, headers=buyer.headers)
    assert done.json()["status"] == "completed"
    async with state.db.read_sessions() as session:
        events = list(
            (
                await session.execute(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
            ).scalars()
        )
    assert [(e.to_status, e.actor_kind) for e in events] == [
        ("pending_payment", "buyer"),
        ("paid", "psp"),
        ("accepted", "merchant"),
        ("shipped", "merchant"),
        ("delivered", "merchant"),
        ("completed", "buyer"),
    ]
    assert events[2].actor_id == seller.user.id and all(e.at is not None for e in events)

    listing = await client.get(f"/api/v1/me/merchants/{shop.id}/orders?status=completed", headers=seller.headers)
    assert [o["id"] for o in listing.json()["items"]] == [order_id]
    stranger = await make_user(state)
    assert (await client.get(f"/api/v1/orders/{order_id}", headers=stranger.headers)).status_code == 404


async def test_given_a_guest_cart_when_logging_in_then_it_merges_into_the_account(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop)))["id"]
    guest = await client.post("/api/v1/cart/items", json={"sku_id": sku, "quantity": 2})
    assert guest.status_code == 201 and client.cookies.get("passerelle_cart")
    buyer = await make_user(state)
    token = await client.post(
        "/api/v1/auth/token", json={"email": buyer.user.email, "password": "correct horse battery"}
    )
    assert token.status_code == 200
    cart = await client.get("/api/v1/cart", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert cart.json()["count"] == 2


async def test_given_a_cart_then_its_last_use_is_kept_to_the_minute(client: httpx.AsyncClient, state: AppState) -> None:
    shop = await make_merchant(state, await make_user(state))
    sku_a = (await sku_of(client, await make_product(state, shop)))["id"]
    sku_b = (await sku_of(client, await make_product(state, shop)))["id"]
    (buyer,) = await make_buyers(state, 1)

    async def last_use() -> datetime:
        async with state.db.read_sessions() as session:
            cart = (await session.execute(select(Cart).where(Cart.user_id == buyer.user.id))).scalar_one()
            return cart.updated_at

    await add_to_cart(client, buyer, sku_a)
    created = await last_use()
    await add_to_cart(client, buyer, sku_b)
    assert await last_use() == created  # used again within the minute: not written again
    async with state.db.writing() as session:
        await session.execute(update(Cart).values(updated_at=created - timedelta(minutes=2)))
    await add_to_cart(client, buyer, sku_a)
    assert await last_use() > created
