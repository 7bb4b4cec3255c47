"""Helpers for commerce tests: buyers in bulk, carts, checkout, paying, draining the outbox."""

from __future__ import annotations

import itertools
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import httpx

from passerelle.accounts import service as accounts
from passerelle.accounts.models import Role, User
from passerelle.accounts.passwords import hash_password
from passerelle.infra.outbox import OutboxRunner
from passerelle.state import AppState
from passerelle.tasks import HANDLERS
from tests.factories import PASSWORD, Actor, make_merchant, make_product, make_user

ADDRESS = {
    "name": "Camille Martin",
    "line1": "12 rue des Lilas",
    "city": "Lyon",
    "postal_code": "69003",
    "country": "FR",
}
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
_n = itertools.count(1)
_HASH = hash_password(PASSWORD)


async def make_buyers(state: AppState, count: int, *, country: str = "FR", currency: str = "EUR") -> list[Actor]:
    """Many buyers at once (one argon2 hash shared, so the test stays fast)."""
    actors = []
    async with state.db.sessions() as session:
        for _ in range(count):
            n = next(_n)
            user = User(
                email=f"buyer{n}@acheteurs.fr",
                password_hash=_HASH,
                display_name=f"Buyer {n}",
                role=Role.buyer,
                country=country,
                language="fr",
                currency=currency,
            )
            session.add(user)
            await session.flush()
            actors.append(Actor(user, await accounts.issue_api_token(session, user=user, days=1)))
        await session.commit()
    return actors


async def drain(state: AppState, rounds: int = 20) -> None:
    """Run every due outbox message (webhooks, expiry, mails) until none is left."""
    runner = OutboxRunner(state, HANDLERS)
    for _ in range(rounds):
        if await runner.run_once() == 0:
            return


async def add_to_cart(client: httpx.AsyncClient, buyer: Actor, sku_id: int, quantity: int = 1) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/cart/items", json={"sku_id": sku_id, "quantity": quantity}, headers=buyer.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def checkout(
    client: httpx.AsyncClient,
    buyer: Actor,
    *,
    key: str | None = None,
    address: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    headers = dict(buyer.headers)
    if key:
        headers["Idempotency-Key"] = key
    return await client.post(
        "/api/v1/checkout",
        json={"shipping_address": address or ADDRESS, "payment_provider": "sandbox", **extra},
        headers=headers,
    )


async def pay(client: httpx.AsyncClient, state: AppState, payment_id: str, card: str = GOOD_CARD) -> None:
    response = await client.post(f"/api/v1/payments/sandbox/{payment_id}/pay", json={"card_number": card})
    assert response.status_code == 202, response.text
    await drain(state)


async def sku_of(client: httpx.AsyncClient, product_id: int) -> dict[str, Any]:
    product = (await client.get(f"/api/v1/products/{product_id}")).json()
    return dict(product["skus"][0])


async def stocked_sku(client: httpx.AsyncClient, state: AppState, **product: Any) -> int:
    """The SKU id of a new product (`make_product`'s options) in a new seller's new shop."""
    shop = await make_merchant(state, await make_user(state))
    return int((await sku_of(client, await make_product(state, shop, **product)))["id"])


def read_mails(state: AppState) -> list[EmailMessage]:
    """The e-mails the file mailer wrote, parsed."""
    return [
        message_from_bytes(path.read_bytes(), policy=default)  # type: ignore[misc]
        for path in sorted((state.settings.data_dir / "mail").glob("*.eml"))
    ]
