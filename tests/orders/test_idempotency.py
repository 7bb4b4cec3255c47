"""Idempotency-Key on checkout: replay, reuse with another body, concurrent duplicates, restarts."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from passerelle.app import create_app
from passerelle.config import Settings
from passerelle.state import AppState
from tests.commerce import ADDRESS, add_to_cart, checkout, make_buyers, sku_of
from tests.factories import make_merchant, make_product, make_user


async def _buyer_with_cart(client: httpx.AsyncClient, state: AppState, stock: int = 5):  # type: ignore[no-untyped-def]
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, stock=stock)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    return buyer


@pytest.mark.both_backends
async def test_given_a_retried_checkout_with_the_same_key_then_the_stored_response_comes_back(
    client: httpx.AsyncClient, state: AppState
) -> None:
    buyer = await _buyer_with_cart(client, state)
    first = await checkout(client, buyer, key="chk-1")
    second = await checkout(client, buyer, key="chk-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert (await client.get("/api/v1/orders", headers=buyer.headers)).json()["total"] == 1


async def test_given_the_same_key_with_another_body_then_422(client: httpx.AsyncClient, state: AppState) -> None:
    buyer = await _buyer_with_cart(client, state)
    assert (await checkout(client, buyer, key="chk-2")).status_code == 201
    other = await checkout(client, buyer, key="chk-2", address={**ADDRESS, "city": "Paris"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_given_keys_are_per_account_then_another_buyer_may_use_the_same_key(
    client: httpx.AsyncClient, state: AppState
) -> None:
    first = await _buyer_with_cart(client, state)
    second = await _buyer_with_cart(client, state)
    assert (await checkout(client, first, key="shared")).status_code == 201
    assert (await checkout(client, second, key="shared")).status_code == 201


@pytest.mark.both_backends
async def test_given_concurrent_duplicates_then_one_checkout_and_the_others_replay_or_get_in_progress(
    client: httpx.AsyncClient, state: AppState
) -> None:
    buyer = await _buyer_with_cart(client, state)
    responses = await asyncio.gather(*(checkout(client, buyer, key="burst") for _ in range(20)))
    created = [r.json() for r in responses if r.status_code == 201]
    others = [r.json()["code"] for r in responses if r.status_code != 201]
    assert created and all(c == created[0] for c in created)
    assert set(others) <= {"in_progress"}
    assert (await client.get("/api/v1/orders", headers=buyer.headers)).json()["total"] == 1


async def test_given_a_server_restart_then_a_retry_still_gets_the_stored_response(
    client: httpx.AsyncClient, state: AppState, settings: Settings
) -> None:
    buyer = await _buyer_with_cart(client, state)
    first = await checkout(client, buyer, key="across-restart")
    fresh_state = AppState.from_settings(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(state=fresh_state))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as restarted:
            again = await checkout(restarted, buyer, key="across-restart")
    finally:
        await fresh_state.db.dispose()
    assert again.status_code == 201 and again.json() == first.json()


async def test_given_a_failed_checkout_then_the_key_can_be_retried(client: httpx.AsyncClient, state: AppState) -> None:
    buyer = await _buyer_with_cart(client, state)
    refused = await checkout(client, buyer, key="retry-me", address={**ADDRESS, "country": "JP"})
    assert refused.status_code == 409
    ok = await checkout(client, buyer, key="retry-me", address={**ADDRESS, "country": "JP"})
    assert ok.status_code == 409 and ok.json()["code"] == "not_shipped_to"
