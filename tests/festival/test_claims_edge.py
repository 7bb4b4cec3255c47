"""POST /api/v1/claims:edge, the server's half of `passerelle edge`'s claim route: each row is
one buyer's claim with its own headers, judged by the same rules as the direct route, and
answered with its own line; one buyer's bad row never fails the others."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from passerelle.accounts import service as accounts
from passerelle.deps import CSRF_COOKIE, SESSION_COOKIE
from passerelle.festival.claims_batch import MAX_BATCH_CLAIMS
from passerelle.infra.ratelimit import MemoryTokenBucket
from passerelle.state import AppState
from tests.factories import make_user
from tests.festival.test_claims_batch import GATEWAY, HEADERS, deal, remaining

IP = "203.0.113.7"


def row(deal_id: int, token: str = "", *, key: str = "", body: str = '{"quantity":1}', **headers: str) -> list[Any]:
    authorization = f"Bearer {token}" if token else ""
    return [
        deal_id,
        headers.get("ip", IP),
        authorization,
        headers.get("cookie", ""),
        headers.get("csrf", ""),
        key,
        body,
    ]


async def post(client: httpx.AsyncClient, rows: list[list[Any]], headers: dict[str, str] = HEADERS) -> httpx.Response:
    return await client.post("/api/v1/claims:edge", content=orjson.dumps({"rows": rows}), headers=headers)


def lines(response: httpx.Response) -> list[tuple[int, str | None, dict[str, Any]]]:
    """Each line's (status, Retry-After, body)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    parsed = []
    for line in response.text.split("\n")[:-1]:
        status, retry_after, body = line.split(" ", 2)
        parsed.append((int(status), None if retry_after == "-" else retry_after, orjson.loads(body)))
    assert response.text.endswith("\n")
    return parsed


async def test_given_rows_from_several_buyers_then_each_gets_its_own_answer_in_order(
    client: httpx.AsyncClient, state: AppState
) -> None:
    deal_id = await deal(client, state, deal_stock=10, limit=2)
    ann, bob = await make_user(state), await make_user(state)
    rows = [
        row(deal_id, ann.token, key="a1"),
        row(deal_id, ann.token, key="a1"),  # the same request again: the same reservation
        row(deal_id, ann.token, key="a1", body='{"quantity":2}'),  # key reused with another body
        row(deal_id, ann.token, key="a2", body='{"quantity":2}'),  # 1 + 2 > limit 2
        row(deal_id, "not-a-token", key="x"),
        row(deal_id),  # signed in with nothing
        row(deal_id, bob.token, key="b1", body='{"quantity":"2"}'),
        row(deal_id + 999, bob.token, key="b2"),
        row(deal_id, bob.token, key="b3", body='{"quantity":2}'),
    ]
    answers = lines(await post(client, rows))
    assert [(status, body.get("code", body.get("status"))) for status, _, body in answers] == [
        (201, "reserved"),
        (201, "reserved"),
        (422, "idempotency_key_reused"),
        (409, "limit_reached"),
        (401, "unauthorized"),
        (401, "unauthorized"),
        (422, "invalid_request"),
        (404, "unknown_deal"),
        (201, "reserved"),
    ]
    assert answers[0][2] == answers[1][2]
    assert answers[0][2]["reservation_id"] != answers[8][2]["reservation_id"]
    assert answers[8][2]["quantity"] == 2 and answers[8][2]["pay_by"]
    assert await remaining(client, deal_id) == 7


async def test_given_a_session_cookie_then_the_csrf_header_must_match_as_on_the_direct_route(
    client: httpx.AsyncClient, state: AppState
) -> None:
    deal_id = await deal(client, state, deal_stock=5, limit=5)
    buyer = await make_user(state)
    async with state.db.sessions() as session:
        web_session = await accounts.open_web_session(session, user=buyer.user, days=1)
        await session.commit()
    cookie = f"{SESSION_COOKIE}={web_session}; {CSRF_COOKIE}=expected"
    rows = [
        row(deal_id, cookie=cookie, csrf="wrong"),
        row(deal_id, cookie=cookie),
        row(deal_id, cookie=cookie, csrf="expected"),
    ]
    answers = lines(await post(client, rows))
    assert [(status, body.get("code")) for status, _, body in answers] == [
        (403, "csrf_failed"),
        (403, "csrf_failed"),
        (201, None),
    ]
    assert await remaining(client, deal_id) == 4


async def test_given_a_flooding_address_then_only_its_rows_are_refused_with_retry_after(
    client: httpx.AsyncClient, state: AppState
) -> None:
    deal_id = await deal(client, state, deal_stock=10, limit=5)
    buyer = await make_user(state)
    state.claim_ip_limiter = MemoryTokenBucket(rate=0.001, burst=1)
    rows = [row(deal_id, buyer.token, key=f"k{n}", ip="198.51.100.1") for n in range(3)]
    rows.append(row(deal_id, buyer.token, key="other-address", ip="198.51.100.2"))
    answers = lines(await post(client, rows))
    assert [status for status, _, _ in answers] == [201, 429, 429, 201]
    assert answers[1][2]["code"] == "rate_limited" and int(answers[1][1] or 0) >= 1
    assert answers[0][1] is None


async def test_given_a_wrong_gateway_token_or_a_malformed_body_then_the_whole_request_is_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    deal_id = await deal(client, state, deal_stock=10, limit=5)
    buyer = await make_user(state)
    good = row(deal_id, buyer.token, key="k")
    refused = await post(client, [good], headers={"Authorization": "Bearer nope"})
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthorized")
    for body in (
        {"rows": [good, [deal_id, IP, "", "", "", "k"]]},  # a row short of a field
        {"rows": [good, [str(deal_id), *good[1:]]]},  # no coercion
        {"rows": [good], "price": 1},
        {"rows": [good] * (MAX_BATCH_CLAIMS + 1)},
    ):
        response = await client.post("/api/v1/claims:edge", content=orjson.dumps(body), headers=HEADERS)
        assert (response.status_code, response.json()["code"]) == (422, "invalid_request"), body
    assert await remaining(client, deal_id) == 10
    state.settings.gateway_token = None
    unset = await post(client, [good], headers={"Authorization": f"Bearer {GATEWAY}"})
    assert unset.status_code == 401
