"""The task-free claim (`claims_api.claim_then`, used by serve's HTTP protocol) answers
exactly what the awaited `answer_claim` answers, and steps aside when it cannot."""

from __future__ import annotations

import asyncio

import httpx
import orjson

from passerelle.festival import claims_api
from passerelle.state import AppState
from tests.commerce import make_buyers
from tests.festival.test_deals_api import festival_with_deal


def asked(token: str, key: str, body: bytes = b'{"quantity":1}') -> claims_api.ClaimRequest:
    return claims_api.ClaimRequest("192.0.2.1", f"Bearer {token}", "", "", key, body)


async def claim_then(state: AppState, deal_id: int, request: claims_api.ClaimRequest) -> claims_api.ClaimReply | None:
    """The callback's reply, or None when claim_then stepped aside."""
    replied: asyncio.Future[claims_api.ClaimReply] = asyncio.get_running_loop().create_future()
    if not claims_api.claim_then(state, deal_id, request, replied.set_result):
        return None
    return await asyncio.wait_for(replied, 5)


async def test_given_a_token_not_cached_then_it_steps_aside_without_counting_anything(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state, deal_stock=3, limit=5)
    deal_id = setup["deal"]["id"]
    (buyer,) = await make_buyers(state, 1)
    before = dict(state.claim_ip_limiter._buckets)
    assert await claim_then(state, deal_id, asked(buyer.token, "a")) is None
    assert state.claim_ip_limiter._buckets == before  # the awaited path will count it once
    assert (await claims_api.answer_claim(state, deal_id, asked(buyer.token, "a"))).status == 201


async def test_given_a_cached_buyer_then_the_same_answers_as_the_awaited_path(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state, deal_stock=2, limit=5)
    deal_id = setup["deal"]["id"]
    (buyer,) = await make_buyers(state, 1)
    first = await claims_api.answer_claim(state, deal_id, asked(buyer.token, "a"))  # caches the token
    assert first.status == 201

    again = await claim_then(state, deal_id, asked(buyer.token, "a"))
    assert again is not None and again.status == 201
    assert orjson.loads(again.body)["reservation_id"] == orjson.loads(first.body)["reservation_id"]
    reused = await claim_then(state, deal_id, asked(buyer.token, "a", b'{"quantity":2}'))
    assert reused is not None and (reused.status, orjson.loads(reused.body)["code"]) == (422, "idempotency_key_reused")
    bad = await claim_then(state, deal_id, asked(buyer.token, "b", b'{"quantity":"1"}'))
    assert bad is not None and bad.status == 422
    second = await claim_then(state, deal_id, asked(buyer.token, "c"))
    assert second is not None and second.status == 201
    sold_out = await claim_then(state, deal_id, asked(buyer.token, "d"))
    assert sold_out is not None and (sold_out.status, orjson.loads(sold_out.body)["code"]) == (409, "sold_out")
    assert await state.engine.counts(deal_id) == (0, 2, 0)  # type: ignore[union-attr]


async def test_given_a_browser_claim_then_its_session_counts_only_with_the_csrf_header_on_both_paths(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.accounts.service import open_web_session
    from passerelle.deps import CSRF_COOKIE, SESSION_COOKIE

    setup = await festival_with_deal(client, state, deal_stock=3, limit=5)
    deal_id = setup["deal"]["id"]
    (buyer,) = await make_buyers(state, 1)
    async with state.db.writing() as session:
        web_session = await open_web_session(session, user=buyer.user, days=1)
    cookies = f"{SESSION_COOKIE}={web_session}; {CSRF_COOKIE}=csrf-secret"

    def browser(csrf_header: str, key: str) -> claims_api.ClaimRequest:
        return claims_api.ClaimRequest("192.0.2.1", "", cookies, csrf_header, key, b'{"quantity":1}')

    forged = await claims_api.answer_claim(state, deal_id, browser("", "a"))
    assert (forged.status, orjson.loads(forged.body)["code"]) == (403, "csrf_failed")
    assert (await claims_api.answer_claim(state, deal_id, browser("csrf-secret", "b"))).status == 201  # cached now
    forged_again = await claim_then(state, deal_id, browser("wrong", "c"))
    assert forged_again is not None and forged_again.status == 403
    cached = await claim_then(state, deal_id, browser("csrf-secret", "d"))
    assert cached is not None and cached.status == 201
    assert await state.engine.counts(deal_id) == (1, 2, 0)  # type: ignore[union-attr]
