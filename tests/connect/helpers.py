"""Set-ups for the influencer program tests, through the real API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from passerelle.connect.service import creators
from passerelle.merchants.models import Merchant
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, drain, make_buyers, pay, sku_of
from tests.factories import Actor, make_merchant, make_product, make_user

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
_n = iter(range(1, 10**6))


@dataclass
class Shop:
    seller: Actor
    merchant: Merchant
    product_id: int
    sku_id: int
    campaign_id: int


async def make_creator(
    client: httpx.AsyncClient, state: AppState, *, followers: int = 5000, approve: bool = True, **extra: Any
) -> tuple[Actor, int]:
    actor = await make_user(state)
    body = {
        "handle": f"creator{next(_n)}",
        "display_name": "Anna Beauté",
        "channels": [{"network": "instagram", "url": "https://instagram.com/anna", "followers": followers}],
        "posts": 120,
        "countries": ["FR"],
        "languages": ["fr"],
        "categories": ["beauty"],
        **extra,
    }
    response = await client.post("/api/v1/creators", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    creator_id = int(response.json()["id"])
    if approve:
        async with state.db.sessions() as session:
            await creators.review(session, creator_ids=[creator_id], approve=True)
            await session.commit()
    return actor, creator_id


async def make_shop(client: httpx.AsyncClient, state: AppState, *, price: int = 10000, rate_bp: int = 1000) -> Shop:
    seller = await make_user(state)
    merchant = await make_merchant(state, seller)
    product_id = await make_product(state, merchant, price=price, stock=1000)
    sku_id = int((await sku_of(client, product_id))["id"])
    campaign = await client.post(
        "/api/v1/campaigns",
        json={
            "merchant_id": merchant.id,
            "kind": "open",
            "title": "Rentrée",
            "rate_bp": rate_bp,
            "categories": ["beauty"],
        },
        headers=seller.headers,
    )
    assert campaign.status_code == 201, campaign.text
    return Shop(seller, merchant, product_id, sku_id, int(campaign.json()["id"]))


async def make_link(client: httpx.AsyncClient, creator: Actor, shop: Shop) -> str:
    response = await client.post(
        "/api/v1/creators/me/links",
        json={"target_kind": "product", "target_id": shop.product_id, "campaign_id": shop.campaign_id},
        headers=creator.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


async def click(client: httpx.AsyncClient, code: str, *, agent: str = BROWSER) -> httpx.Response:
    return await client.get(f"/r/{code}", headers={"user-agent": agent})


async def buy(
    client: httpx.AsyncClient, state: AppState, shop: Shop, buyer: Actor | None = None, quantity: int = 1, **extra: Any
) -> tuple[Actor, int]:
    """Add to cart (the client's cookies carry the visitor id), check out, pay, drain the outbox."""
    if buyer is None:
        (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, shop.sku_id, quantity)
    placed = await checkout(client, buyer, **extra)
    assert placed.status_code == 201, placed.text
    body = placed.json()
    await pay(client, state, body["payment"]["id"])
    return buyer, int(body["orders"][0]["id"])


async def deliver(client: httpx.AsyncClient, state: AppState, shop: Shop, order_id: int) -> None:
    """The seller ships the order and marks it delivered (at the state's clock), then the outbox runs."""
    for status in ("shipped", "delivered"):
        moved = await client.post(
            f"/api/v1/orders/{order_id}/status", json={"status": status}, headers=shop.seller.headers
        )
        assert moved.status_code == 200, moved.text
    await drain(state)
