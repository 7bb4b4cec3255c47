"""The gateways' batched intake, POST /api/v1/claims:batch: both body shapes, answers in
order, strict validation with nothing applied on a bad batch, and the gateway token."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from passerelle.festival.claims_batch import MAX_BATCH_BODY, MAX_BATCH_CLAIMS
from passerelle.state import AppState
from tests.festival.test_deals_api import festival_with_deal

GATEWAY = "gateway-secret-token"
HEADERS = {"Authorization": f"Bearer {GATEWAY}"}


async def deal(client: httpx.AsyncClient, state: AppState, **options: Any) -> int:
    state.settings.gateway_token = GATEWAY
    setup = await festival_with_deal(client, state, **options)
    return int(setup["deal"]["id"])


async def remaining(client: httpx.AsyncClient, deal_id: int) -> int:
    return int((await client.get(f"/api/v1/deals/{deal_id}")).json()["remaining"])


async def test_given_claim_objects_then_answers_in_order_with_replays_and_limits(
    client: httpx.AsyncClient, state: AppState
) -> None:
    deal_id = await deal(client, state, deal_stock=10, limit=2)
    claims = [
        {"deal_id": deal_id, "buyer_id": 501, "key": "a", "quantity": 1},
        {"deal_id": deal_id, "buyer_id": 501, "key": "a", "quantity": 1},  # the same request again
        {"deal_id": deal_id, "buyer_id": 501, "key": "b", "quantity": 2},  # 1 + 2 > limit 2
        {"deal_id": deal_id, "buyer_id": 501, "key": "a", "quantity": 2},  # key reused, other body
        {"deal_id": deal_id + 999, "buyer_id": 502, "key": "c", "quantity": 1},
        {"deal_id": deal_id, "buyer_id": 502, "key": "d", "quantity": 1},
    ]
    response = await client.post("/api/v1/claims:batch", json={"claims": claims}, headers=HEADERS)
    assert response.status_code == 200, response.text
    answers = response.json()["answers"]
    codes = [a["code"] for a in answers]
    assert codes == ["reserved", "reserved", "limit_reached", "idempotency_key_reused", "unknown_deal", "reserved"]
    assert answers[0]["reservation_id"] == answers[1]["reservation_id"] != answers[5]["reservation_id"]
    assert answers[2]["reservation_id"] is None
    assert await remaining(client, deal_id) == 8


async def test_given_compact_rows_then_compact_answers_down_to_sold_out(
    client: httpx.AsyncClient, state: AppState
) -> None:
    deal_id = await deal(client, state, deal_stock=3, limit=5)
    rows = [[deal_id, 600 + n, f"row-{n}", 1] for n in range(5)]
    response = await client.post("/api/v1/claims:batch", content=orjson.dumps({"rows": rows}), headers=HEADERS)
    assert response.status_code == 200, response.text
    answers = response.json()["answers"]
    assert [code for code, _ in answers] == ["reserved", "reserved", "reserved", "sold_out", "sold_out"]
    assert all(isinstance(seq, int) for _, seq in answers[:3]) and answers[3][1] is None
    assert await remaining(client, deal_id) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"rows": [[1, 2, "ok", 1], [1, "2", "string-buyer", 1]]},  # no coercion of "2"
        {"rows": [[1, 2, "k" * 201, 1]]},
        {"rows": [[1, 2, "", 1]]},
        {"rows": [[1, 2, "three-fields"]]},
        {"claims": [{"deal_id": 1, "buyer_id": 2, "key": "k", "quantity": 1, "price": 0}]},
        {"claims": [{"deal_id": 1, "buyer_id": 2, "key": "k"}]},
        {"claims": [], "rows": []},
        {},
        {"rows": [[1, 2, f"k{n}", 1] for n in range(MAX_BATCH_CLAIMS + 1)]},
    ],
)
async def test_given_a_malformed_batch_then_422_and_nothing_is_claimed(
    client: httpx.AsyncClient, state: AppState, body: dict[str, Any]
) -> None:
    deal_id = await deal(client, state, deal_stock=10)
    text = (
        orjson.dumps(body)
        .replace(b"[1,", f"[{deal_id},".encode())
        .replace(b'"deal_id":1', f'"deal_id":{deal_id}'.encode())
    )
    response = await client.post("/api/v1/claims:batch", content=text, headers=HEADERS)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"
    assert await remaining(client, deal_id) == 10


async def test_given_no_gateway_token_or_a_huge_body_then_refused(client: httpx.AsyncClient, state: AppState) -> None:
    deal_id = await deal(client, state)
    body = orjson.dumps({"rows": [[deal_id, 1, "k", 1]]})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer \xe9".encode("latin-1")}):
        refused = await client.post("/api/v1/claims:batch", content=body, headers=headers)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    huge = b'{"rows":[' + b" " * (MAX_BATCH_BODY + 1) + b"]}"
    too_large = await client.post("/api/v1/claims:batch", content=huge, headers=HEADERS)
    assert too_large.status_code == 413 and too_large.json()["code"] == "body_too_large"
    assert await remaining(client, deal_id) == 10
