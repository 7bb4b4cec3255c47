"""Claims answered by `passerelle serve`'s HTTP protocol below ASGI (direct_http.py), over
raw sockets against a real server: what a client sees must not differ from ASGI's answers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from passerelle import fastpath
from passerelle.direct_http import NOOP, direct_route
from passerelle.festival import claims_api
from tests import live_server
from tests.festival.live_deal import festival_with_live_deal

# One address gets two claims a second (burst 2): the limiter shows which IP the server saw.
ENV = {
    "PASSERELLE_CLAIMS_PER_IP_PER_SECOND": "1",
    "PASSERELLE_CLAIMS_PER_ACCOUNT_PER_SECOND": "1000",
    "PASSERELLE_GATEWAY_TOKEN": "edge-gateway",
}
_addresses = itertools.count(1)


class Server:
    def __init__(self, url: str, deal_id: int, tokens: list[str]) -> None:
        self.port = int(url.rsplit(":", 1)[1])
        self.deal_id = deal_id
        self.tokens = tokens


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("direct-http")
    out: dict[str, object] = {}
    live_server.prepare(data_dir, lambda state: festival_with_live_deal(state, out, 100))
    running = live_server.start(data_dir, extra_env=ENV)
    try:
        yield Server(running.url, int(out["deal_id"]), list(out["tokens"]))  # type: ignore[call-overload, arg-type]
    finally:
        running.stop()


def claim_request(server: Server, key: str, *, token: int = 0, body: bytes = b'{"quantity":1}', ip: str = "") -> bytes:
    forwarded = ip or f"198.51.100.{next(_addresses) % 250 + 1}"
    return (
        f"POST /api/v1/deals/{server.deal_id}/claims HTTP/1.1\r\nHost: t\r\n"
        f"Authorization: Bearer {server.tokens[token]}\r\nIdempotency-Key: {key}\r\n"
        f"X-Forwarded-For: {forwarded}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


async def exchange(server: Server, raw: bytes, responses: int = 1) -> list[tuple[int, dict[str, str], bytes]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(raw)
        await writer.drain()
        return [await read_response(reader) for _ in range(responses)]
    finally:
        writer.close()


def test_given_paths_then_only_claims_and_the_noop_are_served_directly() -> None:
    assert direct_route(b"/api/v1/noop") == NOOP
    assert direct_route(b"/api/v1/deals/42/claims?x=1") == 42
    for other in (b"/api/v1/deals/0/claims", b"/api/v1/deals/4%32/claims", b"/api/v1/deals/x/claims", b"/healthz"):
        assert direct_route(other) is None


async def test_given_the_serve_protocol_then_claims_skip_asgi_unless_they_need_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def answer(state: Any, deal_id: int, asked: claims_api.ClaimRequest) -> claims_api.ClaimReply:
        return claims_api.ClaimReply(201, orjson.dumps({"deal": deal_id, "key": asked.idempotency_key}))

    async def through_asgi(*args: Any) -> None:
        raise AssertionError("served through ASGI")

    monkeypatch.setattr(claims_api, "answer_claim", answer)
    monkeypatch.setattr(fastpath, "_serve_claim", through_asgi)
    inner = FastAPI()
    inner.state.passerelle = SimpleNamespace(engine=None)  # no engine here: the awaited path
    async with live_server.serve_protocol_in_process(inner) as port:
        fake = Server(f"http://127.0.0.1:{port}", 7, ["token"])
        [(status, _, body)] = await exchange(fake, claim_request(fake, "k1"))
        assert status == 201 and orjson.loads(body) == {"deal": 7, "key": "k1"}
        # Expect: 100-continue is left to uvicorn's ASGI cycle, which knows how to answer it
        # (here the ASGI claim route fails on purpose: the 500 shows which path served it).
        expecting = claim_request(fake, "k2").replace(b"Host: t\r\n", b"Host: t\r\nExpect: 100-continue\r\n")
        [(status, _, _)] = await exchange(fake, expecting)
        assert status == 500


async def test_given_a_claim_then_201_and_its_retry_answers_the_same_reservation(server: Server) -> None:
    [(status, headers, body)] = await exchange(server, claim_request(server, "direct-1"))
    assert status == 201, body
    assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
    first = orjson.loads(body)
    assert first["status"] == "reserved" and first["deal_id"] == server.deal_id and first["pay_by"]
    [(status, _, body)] = await exchange(server, claim_request(server, "direct-1"))
    assert status == 201 and orjson.loads(body)["reservation_id"] == first["reservation_id"]
    # Same key, other quantity: refused with the stable code, as the ASGI route does.
    [(status, _, body)] = await exchange(server, claim_request(server, "direct-1", body=b'{"quantity":2}'))
    assert status == 422 and orjson.loads(body)["code"] == "idempotency_key_reused"


async def test_given_pipelined_requests_then_answers_come_back_in_order(server: Server) -> None:
    pipelined = (
        claim_request(server, "pipe-1", token=1)
        + b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
        + claim_request(server, "pipe-2", token=1)
        + b"POST /api/v1/noop HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
    )
    answers = await exchange(server, pipelined, responses=4)
    assert [status for status, _, _ in answers] == [201, 200, 201, 200]
    assert orjson.loads(answers[1][2]) == {"status": "ok"}
    assert orjson.loads(answers[0][2])["reservation_id"] != orjson.loads(answers[2][2])["reservation_id"]
    assert answers[3][2] == b'{"ok":true}'


async def test_given_a_large_body_or_bad_json_then_413_or_422_with_codes(server: Server) -> None:
    [(status, _, body)] = await exchange(server, claim_request(server, "big", body=b" " * 20_000))
    assert status == 413 and orjson.loads(body)["code"] == "body_too_large"
    [(status, _, body)] = await exchange(server, claim_request(server, "bad", body=b'{"quantity":"1"}'))
    assert status == 422 and orjson.loads(body)["code"] == "invalid_request"


async def test_given_http_1_0_then_the_answer_closes_the_connection(server: Server) -> None:
    raw = claim_request(server, "old-client", token=2).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw)
    status, headers, _ = await read_response(reader)
    assert status == 201 and headers["connection"] == "close"
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
    writer.close()


async def test_given_forwarded_addresses_then_the_per_ip_limit_counts_the_client_not_the_proxy(
    server: Server,
) -> None:
    statuses = [
        (await exchange(server, claim_request(server, f"ip-{n}", token=3, ip="203.0.113.9")))[0][0] for n in range(3)
    ]
    assert statuses[:2] == [201, 201] and statuses[2] == 429
    [(status, headers, body)] = await exchange(server, claim_request(server, "ip-3", token=3, ip="203.0.113.9"))
    assert status == 429 and headers["retry-after"] and orjson.loads(body)["code"] == "rate_limited"
    [(status, _, _)] = await exchange(server, claim_request(server, "ip-4", token=3, ip="203.0.113.10"))
    assert status == 201


async def test_given_a_quiet_keep_alive_connection_then_the_server_closes_it_after_the_timeout(
    server: Server,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(claim_request(server, "idle", token=4))
    status, _, _ = await read_response(reader)
    assert status == 201
    # uvicorn's keep-alive timeout is 5 s; a direct reply arms the same timeout.
    assert await asyncio.wait_for(reader.read(), 9) == b""
    writer.close()


def batch_request(body: bytes, token: str = "edge-gateway") -> bytes:
    return (
        f"POST /api/v1/claims:batch HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def test_given_a_gateway_batch_then_answers_in_order_and_oversized_bodies_refused(server: Server) -> None:
    rows = [[server.deal_id, 9000 + n, f"gw-{n}", 1] for n in range(3)] + [[server.deal_id, 9000, "gw-0", 1]]
    [(status, _, body)] = await exchange(server, batch_request(orjson.dumps({"rows": rows})))
    assert status == 200, body
    answers = orjson.loads(body)["answers"]
    assert [code for code, _ in answers] == ["reserved"] * 4 and answers[0][1] == answers[3][1]
    huge = b'{"rows":[' + b" " * (5 * 1024 * 1024) + b"]}"
    [(status, _, body)] = await exchange(server, batch_request(huge, token="not-the-gateway"))
    assert status == 401 and orjson.loads(body)["code"] == "unauthorized"
    [(status, _, body)] = await exchange(server, batch_request(huge))
    assert status == 413 and orjson.loads(body)["code"] == "body_too_large"
