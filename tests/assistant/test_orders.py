"""Order questions are answered from the asker's own orders only, whatever the text says."""

from __future__ import annotations

import httpx

from passerelle.assistant.runtime import Runtime
from passerelle.state import AppState
from tests.assistant.catalog import SeedCatalog
from tests.commerce import add_to_cart, checkout, make_buyers, pay, sku_of
from tests.factories import Actor

ASK = "/api/v1/assistant/messages"


async def _order(client: httpx.AsyncClient, state: AppState, buyer: Actor, product_id: int) -> int:
    sku = await sku_of(client, product_id)
    await add_to_cart(client, buyer, sku["id"])
    placed = await checkout(client, buyer)
    assert placed.status_code == 201, placed.text
    body = placed.json()
    await pay(client, state, body["payment"]["id"])
    return int(body["orders"][0]["id"])


async def test_given_two_buyers_with_orders_when_each_asks_then_each_sees_only_their_own(
    client: httpx.AsyncClient, state: AppState, shop: SeedCatalog, runtime: Runtime
) -> None:
    alice, bob = await make_buyers(state, 2)
    alice_order = await _order(client, state, alice, shop.products["Long red silk dress"])
    bob_order = await _order(client, state, bob, shop.products["Lavender honey"])

    mine = (await client.post(ASK, json={"text": "où est ma commande ?"}, headers=alice.headers)).json()
    assert mine["intent"] == "order_status"
    assert f"n° {alice_order}" in mine["reply"] and "Atelier Couture" in mine["reply"]
    assert "payée" in mine["reply"]
    assert f"n° {bob_order} " not in mine["reply"] and "Épicerie" not in mine["reply"]
    assert {"label": f"Commande n° {alice_order}", "url": f"/orders/{alice_order}"} in mine["links"]
    assert [c["id"] for c in mine["products"]] == [shop.products["Long red silk dress"]]

    # Bob names Alice's order: the answer is the same as for an order that does not exist.
    for text in (
        f"where is order {alice_order}?",
        f"where is my order #{alice_order}",
        f"status of order {alice_order}",
    ):
        theirs = (await client.post(ASK, json={"text": text}, headers=bob.headers)).json()
        assert theirs["intent"] == "order_status", text
        assert f"#{alice_order}" in theirs["reply"] and "cannot find" in theirs["reply"]
        assert "Atelier Couture" not in theirs["reply"] and "silk" not in str(theirs).lower()
        assert theirs["products"] == []
    missing = (await client.post(ASK, json={"text": "where is order 999999?"}, headers=bob.headers)).json()
    assert missing["reply"].replace("999999", "N") == theirs["reply"].replace(str(alice_order), "N")

    own = (await client.post(ASK, json={"text": f"where is order {bob_order}?"}, headers=bob.headers)).json()
    assert f"#{bob_order}" in own["reply"] and "Épicerie du Sud" in own["reply"]


async def test_given_a_guest_when_asking_about_orders_then_they_are_asked_to_log_in(
    client: httpx.AsyncClient, state: AppState, shop: SeedCatalog, runtime: Runtime
) -> None:
    (alice,) = await make_buyers(state, 1)
    order_id = await _order(client, state, alice, shop.products["Lavender honey"])
    body = (await client.post(ASK, json={"text": f"where is order {order_id}?"})).json()
    assert body["intent"] == "order_status"
    assert body["reply"] == "Log in so I can find your orders."
    assert body["links"][0]["url"].startswith("/login")


async def test_given_a_delivered_order_when_asking_about_returns_then_the_merchants_window_is_quoted(
    client: httpx.AsyncClient, state: AppState, shop: SeedCatalog, runtime: Runtime
) -> None:
    owner = shop.couturier_owner
    set_policy = await client.put(
        f"/api/v1/merchants/{shop.couturier.id}/return-policy", json={"return_days": 30}, headers=owner.headers
    )
    assert set_policy.status_code == 200, set_policy.text
    other = await client.put(
        f"/api/v1/merchants/{shop.couturier.id}/return-policy",
        json={"return_days": 0},
        headers=shop.perfumer_owner.headers,
    )
    assert other.status_code in (403, 404)
    runtime.invalidate()
    (alice,) = await make_buyers(state, 1)
    order_id = await _order(client, state, alice, shop.products["Blue linen summer dress"])
    body = (await client.post(ASK, json={"text": f"can I return order {order_id}?"}, headers=alice.headers)).json()
    assert body["intent"] == "returns"
    assert "Atelier Couture accepts returns within 30 days" in body["reply"]
    # A guest on the product's page gets the same merchant's window, without any order.
    guest = (
        await client.post(
            ASK, json={"text": "puis-je le retourner ?", "product_id": shop.products["Long red silk dress"]}
        )
    ).json()
    assert guest["intent"] == "returns" and "30 jours" in guest["reply"]


async def test_given_a_shipped_order_when_the_buyer_asks_then_the_answer_links_its_tracking_page(
    client: httpx.AsyncClient, state: AppState, runtime: Runtime
) -> None:
    from tests.logistics.helpers import paid_order, ship

    paid = await paid_order(client, state)
    before = (await client.post(ASK, json={"text": "where is my order?"}, headers=paid.buyer.headers)).json()
    assert all("tracking" not in link["url"] for link in before["links"])
    await ship(client, paid)
    runtime.invalidate()  # the buyer's orders are cached for a few seconds
    after = (await client.post(ASK, json={"text": "where is my order?"}, headers=paid.buyer.headers)).json()
    assert {"label": after["links"][-1]["label"], "url": f"/orders/{paid.order_id}/tracking"} in after["links"]
