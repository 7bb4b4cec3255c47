"""What checkout pricing keeps between checkouts (orders/pricing_cache.py): used while the
catalog is unchanged, never after a change, whoever makes it."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import Sku
from passerelle.orders import pricing_cache
from passerelle.orders.service import placement
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, sku_of
from tests.factories import Actor, make_merchant, make_product, make_user, product_payload

STOCK_COLUMNS = {"stock", "reserved", "sold"}


async def _version(state: AppState) -> int:
    async with state.db.read_sessions() as session:
        return int((await session.execute(text("SELECT version FROM catalog_version WHERE id = 1"))).scalar_one())


async def _write(state: AppState, sql: str) -> None:
    async with state.db.writing() as session:
        await session.execute(text(sql))


async def _subtotal_of_one(session: AsyncSession, state: AppState, sku_id: int) -> int:
    """One unit of `sku_id` priced for France on `session`."""
    quote = await placement.price(
        session,
        requests=[placement.LineRequest(sku_id=sku_id, quantity=1)],
        country="FR",
        currency="EUR",
        fx=await state.fx(),
        language="fr",
    )
    return quote.merchants[0].subtotal


async def _bought_total(client: httpx.AsyncClient, buyer: Actor, sku_id: int) -> int:
    await add_to_cart(client, buyer, sku_id, 1)
    placed = await checkout(client, buyer)
    assert placed.status_code == 201, placed.text
    return int(placed.json()["orders"][0]["total"]["amount"])


async def test_given_the_migrations_at_head_then_every_pricing_source_has_its_triggers(state: AppState) -> None:
    async with state.db.read_sessions() as session:
        rows = (await session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))).all()
    triggers = {name: sql for name, sql in rows if name.startswith("catalog_version_")}
    assert set(triggers) == pricing_cache.TRIGGERS
    # The kept SKUs carry exactly the columns whose updates give a new version; every other
    # column of skus is a stock column (a new one must be placed on one side or the other).
    watched = re.search(r"AFTER UPDATE OF (.+?) ON skus", triggers["catalog_version_skus_update"])
    assert watched is not None
    assert {c.strip() for c in watched.group(1).split(",")} == set(pricing_cache.SKU_COLUMNS) - {"id"}
    assert {c.key for c in Sku.__table__.c} - set(pricing_cache.SKU_COLUMNS) == STOCK_COLUMNS


async def test_given_a_change_to_any_pricing_source_then_the_version_changes_but_not_for_a_stock_move(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_merchant(state, await make_user(state))
    sku_id = (await sku_of(client, await make_product(state, shop)))["id"]
    await _write(state, f"INSERT INTO price_tiers (sku_id, min_quantity, unit_amount) VALUES ({sku_id}, 10, 4000)")
    await _write(state, f"INSERT INTO commission_rules (merchant_id, rate_bp) VALUES ({shop.id}, 900)")
    await _write(state, f"INSERT INTO shipping_fees (merchant_id, country, fee_amount) VALUES ({shop.id}, 'FR', 390)")

    before = await _version(state)
    await _write(state, f"UPDATE skus SET stock = stock - 1, reserved = reserved + 1 WHERE id = {sku_id}")
    await _write(state, f"UPDATE skus SET reserved = reserved - 1, sold = sold + 1 WHERE id = {sku_id}")
    assert await _version(state) == before, "a stock move must keep what pricing kept"

    for table in pricing_cache.SOURCE_TABLES:
        column = {"skus": "price_amount", "products": "min_order_quantity", "merchants": "name"}.get(table)
        touch = f"UPDATE {table} SET {column} = {column}" if column else f"DELETE FROM {table}"
        seen = await _version(state)
        await _write(state, touch)
        assert await _version(state) != seen, table


async def test_given_a_kept_pricing_when_the_merchant_changes_the_price_then_the_next_checkout_pays_the_new_one(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    product_id = await make_product(state, shop, price=4900, stock=20, code="ROSE-50")
    sku_id = (await sku_of(client, product_id))["id"]
    first, second, third = await make_buyers(state, 3)

    assert await _bought_total(client, first, sku_id) == 4900 + 490
    kept = pricing_cache._kept[await _version(state)]
    hits = kept.hits
    assert await _bought_total(client, second, sku_id) == 4900 + 490
    assert kept.hits > hits, "the second checkout reads nothing the first one kept"

    changed = await client.put(
        f"/api/v1/me/products/{product_id}",
        json=product_payload(price=5900, stock=20, code="ROSE-50"),
        headers=seller.headers,
    )
    assert changed.status_code == 200, changed.text
    assert await _bought_total(client, third, sku_id) == 5900 + 490


async def test_given_a_kept_pricing_when_the_merchant_stops_shipping_there_then_checkout_is_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller, ships_to=("FR", "DE"))
    sku_id = (await sku_of(client, await make_product(state, shop, stock=20)))["id"]
    first, second = await make_buyers(state, 2)
    await _bought_total(client, first, sku_id)

    stopped = await client.put(
        f"/api/v1/me/merchants/{shop.id}/ships-to", json={"countries": ["DE"]}, headers=seller.headers
    )
    assert stopped.status_code == 200, stopped.text
    await add_to_cart(client, second, sku_id, 1)
    refused = await checkout(client, second)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "not_shipped_to"


async def test_given_a_change_rolled_back_then_its_version_is_gone_and_the_next_change_gets_another(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_merchant(state, await make_user(state))
    sku_id = (await sku_of(client, await make_product(state, shop, price=4900)))["id"]
    before = await _version(state)
    async with state.db.sessions() as session:
        await session.execute(text(f"UPDATE skus SET price_amount = 100 WHERE id = {sku_id}"))
        inside = int((await session.execute(text("SELECT version FROM catalog_version"))).scalar_one())
        # Priced inside the transaction that changed the price: kept under its own version.
        assert await _subtotal_of_one(session, state, sku_id) == 100
        await session.rollback()
    assert inside != before
    assert await _version(state) == before
    await _write(state, f"UPDATE skus SET price_amount = 5000 WHERE id = {sku_id}")
    assert await _version(state) not in (before, inside)
    async with state.db.read_sessions() as session:
        assert await _subtotal_of_one(session, state, sku_id) == 5000


@pytest.mark.both_backends
async def test_given_each_backend_then_only_sqlite_keeps_pricing(
    client: httpx.AsyncClient, state: AppState, backend: str
) -> None:
    async with state.db.read_sessions() as session:
        kept = await pricing_cache.kept_for(session)
    assert (kept is not None) == (backend == "sqlite")


async def test_given_a_trigger_dropped_then_nothing_is_kept(client: httpx.AsyncClient, state: AppState) -> None:
    await _write(state, "DROP TRIGGER catalog_version_merchants_update")
    await _write(state, "UPDATE catalog_version SET version = random()")  # a version not seen yet
    async with state.db.read_sessions() as session:
        assert await pricing_cache.kept_for(session) is None
