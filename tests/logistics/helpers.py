"""A paid order ready to ship, signed carrier events, and other logistics test helpers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from passerelle.logistics.carriers.registry import carrier_secret
from passerelle.logistics.carriers.sandbox import WEBHOOK_PATH
from passerelle.merchants.models import Merchant
from passerelle.payments.signing import SIGNATURE_HEADER, sign
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, pay, sku_of
from tests.factories import Actor, make_merchant, make_product, make_user

_n = itertools.count(1)


@dataclass
class PaidOrder:
    seller: Actor
    buyer: Actor
    merchant: Merchant
    order_id: int
    sku_id: int
    line_id: int


async def paid_order(
    client: httpx.AsyncClient, state: AppState, *, quantity: int = 2, stock: int = 10, country: str = "FR"
) -> PaidOrder:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=2500, stock=stock)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku, quantity)
    address = {
        "name": "Camille Martin",
        "line1": "12 rue des Lilas",
        "city": "Lyon",
        "postal_code": "69003",
        "country": country,
    }
    placed = await checkout(client, buyer, address=address)
    assert placed.status_code == 201, placed.text
    body = placed.json()
    await pay(client, state, body["payment"]["id"])
    order_id = body["orders"][0]["id"]
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()
    assert order["status"] == "paid"
    return PaidOrder(seller, buyer, shop, order_id, sku, order["lines"][0]["id"])


async def ship(
    client: httpx.AsyncClient, paid: PaidOrder, *, packaging_type_id: int | None = None, parcels: int = 1
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/orders/{paid.order_id}/shipments",
        json={
            "carrier": "sandbox",
            "service": "standard",
            "parcels": [
                {
                    "weight_g": 800,
                    "length_mm": 300,
                    "width_mm": 200,
                    "height_mm": 100,
                    "packaging_type_id": packaging_type_id,
                }
            ]
            * parcels,
        },
        headers=paid.seller.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def event(tracking: str, kind: str, at: datetime, *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"trk_test_{next(_n)}",
        "type": kind,
        "tracking_number": tracking,
        "occurred_at": at.astimezone(UTC).isoformat(),
        "location": "Lyon",
    }


def signed(
    state: AppState, body_obj: Any, *, at: int | None = None, secret: str | None = None
) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(body_obj)
    stamp = at if at is not None else int(datetime.now(UTC).timestamp())
    key = secret or carrier_secret(state.settings, "sandbox")
    return body, {"content-type": "application/json", SIGNATURE_HEADER: sign(key, timestamp=stamp, body=body)}


async def send(client: httpx.AsyncClient, state: AppState, body_obj: Any, **kwargs: Any) -> httpx.Response:
    body, headers = signed(state, body_obj, **kwargs)
    return await client.post(WEBHOOK_PATH, content=body, headers=headers)
