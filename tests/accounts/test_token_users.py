"""The buying routes' bearer lookups kept in memory (accounts/token_users.py): one query per
token while the entry lasts, and never a revoked, expired or outdated user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from passerelle.accounts import service as accounts
from passerelle.accounts.models import ApiToken
from passerelle.accounts.token_users import ApiTokenUsers
from passerelle.accounts.tokens import token_hash
from passerelle.db.base import utcnow
from passerelle.state import AppState
from tests.commerce import make_buyers, sku_of
from tests.factories import make_merchant, make_product, make_user
from tests.i18n_fixtures import load_rates


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The token hashes the database was asked about."""
    asked: list[str] = []
    lookup = accounts.user_row_for_api_token

    async def counted(session: Any, *, digest: str) -> Any:
        asked.append(digest)
        return await lookup(session, digest=digest)

    monkeypatch.setattr(accounts, "user_row_for_api_token", counted)
    return asked


async def _sku(client: httpx.AsyncClient, state: AppState) -> int:
    shop = await make_merchant(state, await make_user(state))
    return int((await sku_of(client, await make_product(state, shop, stock=50)))["id"])


async def test_given_three_buying_requests_with_one_token_then_the_token_is_looked_up_once(
    client: httpx.AsyncClient, state: AppState, lookups: list[str]
) -> None:
    sku = await _sku(client, state)
    (buyer,) = await make_buyers(state, 1)
    for _ in range(3):
        added = await client.post("/api/v1/cart/items", json={"sku_id": sku, "quantity": 1}, headers=buyer.headers)
        assert added.status_code == 201
    assert lookups == [token_hash(buyer.token)]


async def test_given_a_cached_token_when_it_is_revoked_then_the_next_buying_request_is_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    sku = await _sku(client, state)
    (buyer,) = await make_buyers(state, 1)
    body = {"sku_id": sku, "quantity": 1}
    assert (await client.post("/api/v1/cart/items", json=body, headers=buyer.headers)).status_code == 201

    assert (await client.post("/api/v1/auth/logout", headers=buyer.headers)).status_code == 204

    refused = await client.post("/api/v1/cart/items", json=body, headers=buyer.headers)
    assert refused.status_code == 401


async def test_given_a_cached_buyer_when_their_currency_changes_then_the_next_cart_is_in_the_new_one(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await load_rates(state)
    sku = await _sku(client, state)
    (buyer,) = await make_buyers(state, 1, currency="EUR")
    body = {"sku_id": sku, "quantity": 1}
    first = await client.post("/api/v1/cart/items", json=body, headers=buyer.headers)
    assert first.json()["total"]["currency"] == "EUR"

    changed = await client.patch("/api/v1/me", json={"currency": "USD"}, headers=buyer.headers)
    assert changed.status_code == 200, changed.text

    again = await client.post("/api/v1/cart/items", json=body, headers=buyer.headers)
    assert again.json()["total"]["currency"] == "USD"


async def test_given_an_entry_then_it_lasts_the_ttl_and_never_past_the_tokens_expiry(
    state: AppState, lookups: list[str]
) -> None:
    users = ApiTokenUsers(ttl=30.0)
    clock = [1000.0]
    users.monotonic = lambda: clock[0]
    (long_lived, short_lived) = await make_buyers(state, 2)
    async with state.db.writing() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_hash(short_lived.token))
            .values(expires_at=utcnow() + timedelta(seconds=5))
        )

    async with state.db.read_sessions() as session:
        for actor in (long_lived, short_lived):
            found = await users.user_copy(session, token=actor.token)
            assert found is not None and found.id == actor.user.id
        assert len(lookups) == 2

        clock[0] += 10  # past the short token's expiry, within the TTL
        assert (await users.user_copy(session, token=long_lived.token)) is not None
        assert len(lookups) == 2  # from memory
        async with state.db.writing() as writer:  # really expired, as the clock says
            await writer.execute(
                update(ApiToken)
                .where(ApiToken.token_hash == token_hash(short_lived.token))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert (await users.user_copy(session, token=short_lived.token)) is None
        assert len(lookups) == 3

        clock[0] += 25  # past the TTL
        assert (await users.user_copy(session, token=long_lived.token)) is not None
        assert len(lookups) == 4


async def test_given_made_up_tokens_then_none_is_kept_and_the_oldest_entries_make_room(state: AppState) -> None:
    users = ApiTokenUsers(max_entries=2)
    buyers = await make_buyers(state, 3)
    async with state.db.read_sessions() as session:
        for n in range(5):
            assert await users.user_copy(session, token=f"made-up-{n}") is None
        assert len(users._entries) == 0
        for buyer in buyers:
            assert await users.user_copy(session, token=buyer.token) is not None
    assert list(users._entries) == [token_hash(b.token) for b in buyers[1:]]


async def test_given_a_logout_while_a_request_reads_the_token_then_that_read_is_not_kept(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a request can read the token just before a logout commits and forgets it."""
    users = ApiTokenUsers()
    (buyer,) = await make_buyers(state, 1)
    lookup = accounts.user_row_for_api_token

    async def read_then_logout(session: Any, *, digest: str) -> Any:
        found = await lookup(session, digest=digest)
        users.forget_token(buyer.token)  # the logout's after-commit, between the read and its keeping
        return found

    monkeypatch.setattr(accounts, "user_row_for_api_token", read_then_logout)
    async with state.db.read_sessions() as session:
        assert await users.user_copy(session, token=buyer.token) is not None  # read before the logout
    assert users._entries == {}


async def test_given_kept_entries_then_no_password_hash_and_expired_ones_leave(state: AppState) -> None:
    users = ApiTokenUsers(ttl=30.0)
    clock = [0.0]
    users.monotonic = lambda: clock[0]
    first, second = await make_buyers(state, 2)
    async with state.db.read_sessions() as session:
        await users.user_copy(session, token=first.token)
        (kept,) = users._entries.values()
        assert "password_hash" not in kept.values and kept.values["email"] == first.user.email
        clock[0] += 31
        await users.user_copy(session, token=second.token)
    assert list(users._entries) == [token_hash(second.token)]
    assert users._tokens_of == {second.user.id: {token_hash(second.token)}}
