"""The sandbox pay route: a payment is charged once, however many submits race."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from passerelle.state import AppState
from tests.commerce import GOOD_CARD, add_to_cart, checkout, make_buyers, stocked_sku


@pytest.mark.both_backends
async def test_given_concurrent_submits_of_one_payment_then_one_is_accepted_and_the_others_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    sku = await stocked_sku(client, state, stock=5)
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    placed = await checkout(client, buyer)
    payment_id = placed.json()["payment"]["id"]

    submits = await asyncio.gather(
        *(client.post(f"/api/v1/payments/sandbox/{payment_id}/pay", json={"card_number": GOOD_CARD}) for _ in range(10))
    )

    codes = sorted(r.status_code for r in submits)
    assert codes == [202] + [409] * 9, codes
    assert {r.json()["code"] for r in submits if r.status_code == 409} == {"payment_not_pending"}
    status = await client.get(f"/api/v1/payments/{payment_id}")
    assert status.json()["status"] == "processing"


async def test_given_an_unknown_payment_or_a_bad_card_then_nothing_is_written(
    client: httpx.AsyncClient, state: AppState
) -> None:
    unknown = await client.post("/api/v1/payments/sandbox/pay_nope/pay", json={"card_number": GOOD_CARD})
    assert unknown.status_code == 404
    sku = await stocked_sku(client, state, stock=5)
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    payment_id = (await checkout(client, buyer)).json()["payment"]["id"]
    bad = await client.post(f"/api/v1/payments/sandbox/{payment_id}/pay", json={"card_number": "1234567890123"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_card_number"
    assert (await client.get(f"/api/v1/payments/{payment_id}")).json()["status"] == "pending"
