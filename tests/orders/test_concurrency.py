"""No oversell under any concurrency: 200 buyers race for 10 units, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from passerelle.catalog.models import Sku
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, stocked_sku


@pytest.mark.both_backends
async def test_given_200_concurrent_checkouts_for_10_units_then_exactly_10_succeed(
    client: httpx.AsyncClient, state: AppState
) -> None:
    sku = await stocked_sku(client, state, stock=10)
    buyers = await make_buyers(state, 200)
    for buyer in buyers:
        await add_to_cart(client, buyer, sku, 1)

    responses = await asyncio.gather(*(checkout(client, buyer) for buyer in buyers))

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 10, codes
    refused = [r.json()["code"] for r in responses if r.status_code != 201]
    assert set(refused) == {"out_of_stock"}
    async with state.db.read_sessions() as session:
        row = await session.get(Sku, sku)
        assert row is not None
        assert (row.stock, row.reserved, row.sold) == (0, 10, 0)
        assert row.stock + row.reserved + row.sold == 10
