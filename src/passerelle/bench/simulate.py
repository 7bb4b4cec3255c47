"""`passerelle festival simulate`: a synthetic festival day against a running server, so
the big screen can be watched moving and its totals checked against what was sent.

Buyers from many countries are created in the server's database (same settings), with API
tokens: sign-up is rate-limited per address, and a simulation is not an abuse. Everything
else goes through the public API: each simulated order adds a product the merchant ships
to the buyer's country to the cart (or claims a running flash deal), checks out, and pays
on the sandbox PSP, whose webhook marks the order paid inside the server. Orders start at
the requested rate; a buyer has one order in flight at a time (one cart each).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from passerelle.accounts.models import ApiToken, Role, User
from passerelle.accounts.tokens import token_hash
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.db.base import utcnow
from passerelle.festival.models import Deal, DealStatus
from passerelle.merchants.models import Merchant, MerchantShipsTo, MerchantStatus
from passerelle.state import AppState

# Where the simulated buyers live, weighted roughly like a French brand's export markets.
COUNTRIES = {"FR": 30, "DE": 10, "ES": 8, "IT": 8, "BE": 6, "GB": 6, "US": 8, "CN": 6, "JP": 4, "BR": 3, "CA": 3,
             "CH": 3, "NL": 3, "SE": 2, "PL": 2, "KR": 2, "AU": 2, "MA": 2}  # fmt: skip
CURRENCY = {"GB": "GBP", "US": "USD", "CN": "CNY", "JP": "JPY", "BR": "BRL", "CA": "CAD", "CH": "CHF",
            "SE": "SEK", "PL": "PLN", "KR": "KRW", "AU": "AUD", "MA": "MAD"}  # fmt: skip
GOOD_CARD = "4242 4242 4242 4242"


@dataclass
class Offer:
    sku_id: int
    countries: list[str]
    deal_id: int | None = None


@dataclass
class Sent:
    """What the simulation did, to check the screen against."""

    started: int = 0
    placed: int = 0
    paid_requests: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    by_country: Counter[str] = field(default_factory=Counter)
    amount_by_currency: Counter[str] = field(default_factory=Counter)  # merchant currencies, minor units
    deal_orders: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders_started": self.started,
            "orders_placed": self.placed,
            "payments_sent": self.paid_requests,
            "failed": dict(self.failed),
            "orders_by_country": dict(self.by_country.most_common()),
            "amount_by_currency": dict(self.amount_by_currency),
            "deal_orders": self.deal_orders,
        }


async def load_offers(state: AppState) -> list[Offer]:
    async with state.db.read_sessions() as session:
        rows = (
            await session.execute(
                select(Sku.id, Product.merchant_id)
                .join(Product, Product.id == Sku.product_id)
                .join(Merchant, Merchant.id == Product.merchant_id)
                .where(
                    Product.status == ProductStatus.published,
                    Merchant.status == MerchantStatus.approved,
                    Sku.stock > 0,
                    Product.min_order_quantity <= 1,
                )
            )
        ).all()
        ships: dict[int, list[str]] = defaultdict(list)
        for merchant_id, country in (
            await session.execute(select(MerchantShipsTo.merchant_id, MerchantShipsTo.country))
        ).all():
            if country in COUNTRIES:
                ships[merchant_id].append(country)
        now = utcnow()
        deals = (
            await session.execute(
                select(Deal.id, Deal.sku_id, Deal.merchant_id).where(
                    Deal.status == DealStatus.armed, Deal.starts_at <= now, Deal.ends_at > now
                )
            )
        ).all()
    offers = [Offer(sku_id, sorted(ships[m])) for sku_id, m in rows if ships.get(m)]
    offers += [Offer(sku_id, sorted(ships[m]), deal_id) for deal_id, sku_id, m in deals if ships.get(m)]
    return offers


async def make_buyers(state: AppState, per_country: int) -> dict[str, list[str]]:
    """API tokens of fresh buyers, `per_country` in each country."""
    run = uuid.uuid4().hex[:8]
    tokens: dict[str, list[str]] = defaultdict(list)
    async with state.db.sessions() as session:
        users = [
            User(
                email=f"sim-{run}-{country.lower()}{i}@simulation.passerelle.fr",
                password_hash="!",  # cannot log in with a password: API token only
                display_name=f"Sim {country} {i}",
                role=Role.buyer,
                country=country,
                language="fr" if country in ("FR", "BE", "CH", "MA", "CA") else "en",
                currency=CURRENCY.get(country, "EUR"),
            )
            for country in COUNTRIES
            for i in range(per_country)
        ]
        session.add_all(users)
        await session.flush()
        expires = utcnow() + timedelta(days=2)
        for user in users:
            token = secrets.token_urlsafe(32)
            tokens[user.country].append(token)
            session.add(ApiToken(token_hash=token_hash(token), user_id=user.id, name="simulation", expires_at=expires))
        await session.commit()
    return tokens


def _address(country: str, n: int) -> dict[str, str]:
    return {"name": f"Sim buyer {n}", "line1": f"{n} avenue du Festival", "city": "Ville", "postal_code": "11011",
            "country": country}  # fmt: skip


async def _one_order(http: httpx.AsyncClient, token: str, country: str, offer: Offer, n: int, sent: Sent) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"shipping_address": _address(country, n), "payment_provider": "sandbox"}
    if offer.deal_id is not None:
        claim = await http.post(
            f"/api/v1/deals/{offer.deal_id}/claims",
            json={"quantity": 1},
            headers={**headers, "Idempotency-Key": f"sim-claim-{n}-{uuid.uuid4().hex[:6]}"},
        )
        if claim.status_code != 201:
            sent.failed[f"claim:{claim.json().get('code', claim.status_code)}"] += 1
            return
        placed = await http.post(claim.json()["checkout_url"], json=body, headers=headers)
    else:
        added = await http.post("/api/v1/cart/items", json={"sku_id": offer.sku_id, "quantity": 1}, headers=headers)
        if added.status_code != 201:
            sent.failed[f"cart:{added.json().get('code', added.status_code)}"] += 1
            return
        placed = await http.post(
            "/api/v1/checkout", json=body, headers={**headers, "Idempotency-Key": f"sim-{n}-{uuid.uuid4().hex[:6]}"}
        )
    if placed.status_code != 201:
        sent.failed[f"checkout:{placed.json().get('code', placed.status_code)}"] += 1
        return
    checkout = placed.json()
    sent.placed += 1
    sent.deal_orders += offer.deal_id is not None
    for order in checkout["orders"]:
        sent.by_country[country] += 1
        sent.amount_by_currency[order["total"]["currency"]] += order["total"]["amount"]
    paid = await http.post(f"/api/v1/payments/sandbox/{checkout['payment']['id']}/pay", json={"card_number": GOOD_CARD})
    if paid.status_code == 202:
        sent.paid_requests += 1
    else:
        sent.failed["pay"] += 1


async def simulate(
    url: str,
    state: AppState,
    *,
    rate: float,
    duration: float,
    seed: int = 1111,
    progress: Callable[[int, int], None] | None = None,
) -> Sent:
    offers = await load_offers(state)
    if not offers:
        raise RuntimeError("nothing to buy: seed the demo first (passerelle seed demo)")
    per_country = max(2, int(rate * 2 / len(COUNTRIES)) + 2)  # enough buyers for ~2 s of orders in flight
    tokens = await make_buyers(state, per_country)
    free: dict[str, asyncio.Queue[str]] = {}
    for country, country_tokens in tokens.items():
        free[country] = asyncio.Queue()
        for token in country_tokens:
            free[country].put_nowait(token)
    rng = random.Random(seed)
    countries, weights = list(COUNTRIES), list(COUNTRIES.values())
    total = int(rate * duration)
    sent = Sent()
    tasks: set[asyncio.Task[None]] = set()
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:

        async def run(n: int) -> None:
            country = rng.choices(countries, weights)[0]
            choices = [o for o in rng.sample(offers, min(8, len(offers))) if country in o.countries]
            offer = choices[0] if choices else None
            if offer is None:
                offer = next((o for o in offers if o.countries), offers[0])
                country = rng.choice(offer.countries)
            token = await free[country].get()
            try:
                await _one_order(http, token, country, offer, n, sent)
            except (httpx.HTTPError, ValueError, KeyError) as error:
                sent.failed[type(error).__name__] += 1
            finally:
                free[country].put_nowait(token)

        started = time.monotonic()
        for n in range(total):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.started += 1
            task = asyncio.create_task(run(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if progress is not None:
                progress(n + 1, total)
        if tasks:
            await asyncio.gather(*tasks)
    return sent
