"""The claim engine on Redis (PASSERELLE_REDIS_URL): the same guarantees, and several API
processes sharing one deal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from passerelle.app import create_app
from passerelle.config import Settings
from passerelle.festival.startup import start_engine
from passerelle.state import AppState
from tests import live_server
from tests.commerce import make_buyers
from tests.festival.live_deal import festival_with_live_deal
from tests.festival.test_crash_recovery import STOCK
from tests.festival.test_deals_api import claim, festival_with_deal
from tests.services import RedisServer


@pytest.fixture
async def redis_state(settings: Settings, redis_server: RedisServer) -> AsyncIterator[AppState]:
    client = aioredis.from_url(redis_server.url)
    await client.flushall()
    await client.aclose()
    state = AppState.from_settings(settings.model_copy(update={"redis_url": redis_server.url}))
    await start_engine(state)
    yield state
    assert state.engine is not None
    await state.engine.stop()
    await state.db.dispose()


@pytest.fixture
async def redis_client(redis_state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(state=redis_state), client=("127.0.0.1", 40002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_given_redis_when_1000_buyers_race_for_100_units_then_no_oversell_and_limits_hold(
    redis_client: httpx.AsyncClient, redis_state: AppState
) -> None:
    setup = await festival_with_deal(redis_client, redis_state, stock=500, deal_stock=100, limit=2)
    deal_id = setup["deal"]["id"]
    buyers = await make_buyers(redis_state, 1000)
    answers = await asyncio.gather(
        *(claim(redis_client, b, deal_id, 1 + i % 2, key=f"r{i}") for i, b in enumerate(buyers))
    )
    won = [a.json() for a in answers if a.status_code == 201]
    assert sum(body["quantity"] for body in won) == 100
    assert {a.json()["code"] for a in answers if a.status_code != 201} == {"sold_out"}
    assert redis_state.engine is not None
    assert await redis_state.engine.counts(deal_id) == (0, 100, 0)
    again = await claim(redis_client, buyers[0], deal_id, 1, key="r0")
    assert again.json()["reservation_id"] == answers[0].json()["reservation_id"]


async def test_given_redis_when_a_hold_is_paid_or_released_then_counts_follow(
    redis_client: httpx.AsyncClient, redis_state: AppState
) -> None:
    setup = await festival_with_deal(redis_client, redis_state, stock=20, deal_stock=4, limit=4)
    deal_id = setup["deal"]["id"]
    (buyer,) = await make_buyers(redis_state, 1)
    first = (await claim(redis_client, buyer, deal_id, 1, key="a")).json()["reservation_id"]
    second = (await claim(redis_client, buyer, deal_id, 1, key="b")).json()["reservation_id"]
    engine = redis_state.engine
    assert engine is not None
    assert await engine.confirm(first) and not await engine.confirm(first)
    assert await engine.release(second)
    assert await engine.counts(deal_id) == (3, 0, 1)


async def test_given_redis_when_a_buyer_claims_across_deals_then_the_open_hold_cap_holds(
    redis_client: httpx.AsyncClient, redis_state: AppState
) -> None:
    """The cap spans deals (so Redis slots): 12 concurrent claims on two deals -> exactly 5 holds."""
    cap = redis_state.settings.max_open_reservations
    assert cap == 5
    one = (await festival_with_deal(redis_client, redis_state, stock=40, deal_stock=20, limit=20))["deal"]["id"]
    two = (await festival_with_deal(redis_client, redis_state, stock=40, deal_stock=20, limit=20))["deal"]["id"]
    (buyer,) = await make_buyers(redis_state, 1)
    redis_state.claim_account_limiter = type(redis_state.claim_account_limiter)(rate=1000, burst=1000)  # type: ignore[call-arg]
    answers = await asyncio.gather(*(claim(redis_client, buyer, (one, two)[i % 2], 1, key=f"k{i}") for i in range(12)))
    held = [a for a in answers if a.status_code == 201]
    assert len(held) == cap
    assert {a.json()["code"] for a in answers if a.status_code != 201} == {"too_many_reservations"}
    # A retry of a key that got its hold answers the same reservation, even at the cap.
    index = answers.index(held[0])
    again = await claim(redis_client, buyer, (one, two)[index % 2], 1, key=f"k{index}")
    assert again.status_code == 201 and again.json()["reservation_id"] == held[0].json()["reservation_id"]
    # Paying or releasing a hold frees a place.
    engine = redis_state.engine
    assert engine is not None
    assert await engine.release(held[0].json()["reservation_id"])
    assert (await claim(redis_client, buyer, one, 1, key="after-release")).status_code == 201
    assert (await claim(redis_client, buyer, one, 1, key="over-again")).json()["code"] == "too_many_reservations"


async def test_given_redis_when_the_edge_hands_over_claims_then_each_row_gets_its_reservation_and_pay_by(
    redis_client: httpx.AsyncClient, redis_state: AppState
) -> None:
    setup = await festival_with_deal(redis_client, redis_state, stock=20, deal_stock=2, limit=5)
    deal_id = setup["deal"]["id"]
    buyers = await make_buyers(redis_state, 3)
    redis_state.settings.gateway_token = "edge-on-redis"
    rows = [
        [deal_id, "192.0.2.1", f"Bearer {b.token}", "", "", f"e{i}", '{"quantity":1}'] for i, b in enumerate(buyers)
    ]
    response = await redis_client.post(
        "/api/v1/claims:edge", json={"rows": rows}, headers={"Authorization": "Bearer edge-on-redis"}
    )
    assert response.status_code == 200, response.text
    answers = [line.split(" ", 2) for line in response.text.splitlines()]
    assert [status for status, _, _ in answers] == ["201", "201", "409"]
    held = [orjson.loads(body) for _, _, body in answers[:2]]
    assert all(body["pay_by"] > "2000" and body["reservation_id"] for body in held)
    assert orjson.loads(answers[2][2])["code"] == "sold_out"


async def test_given_two_server_processes_on_one_redis_then_they_share_the_deal(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    client = aioredis.from_url(redis_server.url)
    await client.flushall()
    await client.aclose()
    out: dict[str, object] = {}
    await asyncio.to_thread(live_server.prepare, tmp_path, lambda state: festival_with_live_deal(state, out, STOCK))
    deal_id = int(out["deal_id"])  # type: ignore[call-overload]
    tokens: list[str] = out["tokens"]  # type: ignore[assignment]
    env = {
        "PASSERELLE_REDIS_URL": redis_server.url,
        "PASSERELLE_CLAIMS_PER_ACCOUNT_PER_SECOND": "100000",
        "PASSERELLE_MAX_OPEN_RESERVATIONS": "0",  # many holds per test buyer here
    }
    first = await asyncio.to_thread(live_server.start, tmp_path, extra_env=env)
    second = await asyncio.to_thread(live_server.start, tmp_path, extra_env=env)
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            gate = asyncio.Semaphore(32)

            async def one(n: int) -> httpx.Response:
                server = first if n % 2 else second
                async with gate:
                    return await http.post(
                        f"{server.url}/api/v1/deals/{deal_id}/claims",
                        json={"quantity": 1},
                        headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}", "Idempotency-Key": f"s{n}"},
                    )

            answers = await asyncio.gather(*(one(n) for n in range(450)))
            assert {a.status_code for a in answers} <= {201, 409}
            reserved = [a.json()["reservation_id"] for a in answers if a.status_code == 201]
            # Exactly the deal's stock, across both processes; the rest sold out.
            assert len(reserved) == len(set(reserved)) == STOCK
            assert sum(1 for a in answers if a.status_code == 409 and a.json()["code"] == "sold_out") == 450 - STOCK
            # A key used on one process answers the same reservation on the other.
            replay = await http.post(
                f"{first.url}/api/v1/deals/{deal_id}/claims",
                json={"quantity": 1},
                headers={"Authorization": f"Bearer {tokens[0]}", "Idempotency-Key": "s0"},
            )
            assert replay.status_code == 201 and replay.json()["reservation_id"] == answers[0].json()["reservation_id"]
            for server in (first, second):
                assert (await http.get(f"{server.url}/api/v1/deals/{deal_id}")).json()["remaining"] == 0
    finally:
        first.stop()
        second.stop()
