"""Cart add, checkout and pay in shared write transactions on SQLite (group commit, on for
these tests; `Database(..., group_commit=True)`): a failing buyer fails alone, no oversell,
the Idempotency-Key rules hold, the ledger still balances. On PostgreSQL (no group commit,
one transaction per request) the same must hold."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from passerelle.catalog.models import Sku
from passerelle.db.base import utcnow
from passerelle.db.group_commit import GroupCommit
from passerelle.infra.idempotency import IN_FLIGHT_GRACE, IdempotencyKey, request_hash
from passerelle.ledger.models import LedgerEntry
from passerelle.orders.models import Order, OrderStatus
from passerelle.orders.schemas import CheckoutIn
from passerelle.state import AppState
from tests.commerce import ADDRESS, GOOD_CARD, add_to_cart, checkout, drain, make_buyers, sku_of, stocked_sku
from tests.factories import Actor, make_merchant, make_product, make_user


@pytest.fixture(autouse=True, params=["below FastAPI", "through FastAPI"])
def _grouped(
    state: AppState, client: httpx.AsyncClient, served: list[str], request: pytest.FixtureRequest
) -> Iterator[None]:
    """Each test twice on SQLite: API clients without cookies are served below FastAPI
    (orders/buying_fastpath.py); with a cookie, through FastAPI's route."""
    if state.db.write_lock is not None:  # SQLite
        state.db.group_commit = GroupCommit(state.db.engine, state.db.write_lock)
    below = request.param == "below FastAPI"

    async def cookies(outgoing: httpx.Request) -> None:
        outgoing.headers.pop("cookie", None)
        if not below:
            outgoing.headers["cookie"] = "probe=1"

    client.event_hooks["request"].append(cookies)
    yield
    assert bool(served) == (below and state.db.group_commit is not None)
    state.db.group_commit = None


@pytest.mark.both_backends
async def test_given_200_concurrent_grouped_checkouts_for_10_units_then_exactly_10_succeed(
    client: httpx.AsyncClient, state: AppState
) -> None:
    sku = await stocked_sku(client, state, stock=10)
    buyers = await make_buyers(state, 200)
    await asyncio.gather(*(add_to_cart(client, buyer, sku) for buyer in buyers))

    responses = await asyncio.gather(*(checkout(client, buyer, key=f"race-{i}") for i, buyer in enumerate(buyers)))

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 10, codes
    assert {r.json()["code"] for r in responses if r.status_code != 201} == {"out_of_stock"}
    async with state.db.read_sessions() as session:
        row = await session.get(Sku, sku)
        assert row is not None and (row.stock, row.reserved, row.sold) == (0, 10, 0)
    if state.db.group_commit is not None:
        assert state.db.group_commit.commits < state.db.group_commit.members  # grouped indeed


@pytest.mark.both_backends
async def test_given_concurrent_duplicates_in_groups_then_one_checkout_and_the_others_replay_it(
    client: httpx.AsyncClient, state: AppState
) -> None:
    sku = await stocked_sku(client, state, stock=5)
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)

    responses = await asyncio.gather(*(checkout(client, buyer, key="burst") for _ in range(20)))

    created = [r.json() for r in responses if r.status_code == 201]
    assert created and all(c == created[0] for c in created)
    assert {r.json()["code"] for r in responses if r.status_code != 201} <= {"in_progress"}
    assert (await client.get("/api/v1/orders", headers=buyer.headers)).json()["total"] == 1


@pytest.mark.both_backends
async def test_given_concurrent_buyers_some_refused_then_each_refusal_is_its_own_and_the_others_are_placed_and_paid(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, stock=100)))["id"]
    buyers = await make_buyers(state, 30)
    await asyncio.gather(*(add_to_cart(client, buyer, sku) for buyer in buyers))

    # Every third buyer asks for delivery where the shop does not ship: refused after the
    # Idempotency-Key was reserved, in the middle of a group of good checkouts.
    placed = await asyncio.gather(
        *(
            checkout(client, buyer, key=f"grp-{i}", address={**ADDRESS, "country": "JP"} if i % 3 == 0 else None)
            for i, buyer in enumerate(buyers)
        )
    )
    codes = [r.status_code for r in placed]
    assert codes == [409 if i % 3 == 0 else 201 for i in range(30)], codes
    assert {r.json()["code"] for r in placed if r.status_code == 409} == {"not_shipped_to"}

    paid = await asyncio.gather(
        *(
            client.post(f"/api/v1/payments/sandbox/{r.json()['payment']['id']}/pay", json={"card_number": GOOD_CARD})
            for r in placed
            if r.status_code == 201
        )
    )
    assert {r.status_code for r in paid} == {202}
    await drain(state)

    async with state.db.read_sessions() as session:
        statuses = (await session.execute(select(Order.status, func.count()).group_by(Order.status))).all()
        ledger_sum = (await session.execute(select(func.coalesce(func.sum(LedgerEntry.amount), 0)))).scalar_one()
    assert dict(statuses) == {OrderStatus.paid: 20}
    assert ledger_sum == 0
    # The refused buyers' keys were given back: a retry runs again (and is refused again).
    again = await checkout(client, buyers[0], key="grp-0", address={**ADDRESS, "country": "JP"})
    assert again.status_code == 409 and again.json()["code"] == "not_shipped_to"


async def _checkout_key_in_flight(state: AppState, buyer: Actor, key: str, *, since: datetime) -> None:
    """`key` reserved for the usual checkout body since `since`, with no answer yet."""
    body = {"shipping_address": ADDRESS, "payment_provider": "sandbox"}
    async with state.db.writing() as session:
        session.add(
            IdempotencyKey(
                user_id=buyer.user.id,
                key=key,
                scope="checkout",
                request_hash=request_hash("checkout", CheckoutIn.model_validate(body).model_dump(mode="json")),
                created_at=since,
            )
        )


@pytest.mark.both_backends
async def test_given_a_key_in_flight_elsewhere_then_a_grouped_checkout_with_it_answers_409_in_progress(
    client: httpx.AsyncClient, state: AppState
) -> None:
    sku = await stocked_sku(client, state, stock=5)
    buyer, other = await make_buyers(state, 2)
    await add_to_cart(client, buyer, sku)
    await add_to_cart(client, other, sku)
    # What another process's first attempt committed before its work: the key, no answer yet.
    await _checkout_key_in_flight(state, buyer, "elsewhere", since=utcnow())

    duplicate, unrelated = await asyncio.gather(
        checkout(client, buyer, key="elsewhere"), checkout(client, other, key="elsewhere")
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "in_progress", duplicate.text
    assert unrelated.status_code == 201  # same key, other account: its own


@pytest.mark.both_backends
async def test_given_a_key_left_in_flight_by_a_crash_then_a_grouped_checkout_takes_it_over_and_keeps_its_answer(
    client: httpx.AsyncClient, state: AppState
) -> None:
    sku = await stocked_sku(client, state, stock=5)
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    # A first attempt that reserved the key, then died before its work committed.
    await _checkout_key_in_flight(state, buyer, "crashed", since=utcnow() - IN_FLIGHT_GRACE - timedelta(seconds=1))

    placed = await checkout(client, buyer, key="crashed")
    assert placed.status_code == 201, placed.text
    again = await checkout(client, buyer, key="crashed")
    assert again.status_code == 201 and again.json() == placed.json()
    assert again.headers.get("idempotent-replayed") == "true"
    async with state.db.read_sessions() as session:
        kept = await session.get(IdempotencyKey, (buyer.user.id, "crashed"))
        assert kept is not None and kept.status_code == 201
