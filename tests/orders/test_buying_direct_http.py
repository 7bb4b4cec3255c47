"""Cart add, checkout and sandbox pay of API clients answered by `passerelle serve`'s HTTP
protocol below ASGI (direct_http.py): over raw sockets, a client sees what the ASGI route
(forced here by a cookie) answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from passerelle import fastpath
from passerelle.orders import buying_fastpath
from passerelle.state import AppState
from tests import live_server
from tests.commerce import ADDRESS, GOOD_CARD, make_buyers
from tests.factories import make_merchant, make_product, make_user

Answer = tuple[int, dict[str, str], bytes]


class Shop:
    def __init__(self, port: int, sku_id: int, tokens: list[str]) -> None:
        self.port = port
        self.sku_id = sku_id
        self.tokens = tokens


async def _fill(state: AppState, out: dict[str, Any]) -> None:
    shop = await make_merchant(state, await make_user(state))
    product_id = await make_product(state, shop, stock=50)
    async with state.db.read_sessions() as session:
        from sqlalchemy import select

        from passerelle.catalog.models import Sku

        out["sku_id"] = (await session.execute(select(Sku.id).where(Sku.product_id == product_id))).scalar_one()
    out["tokens"] = [buyer.token for buyer in await make_buyers(state, 6)]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    data_dir: Path = tmp_path_factory.mktemp("buying-direct")
    out: dict[str, Any] = {}
    live_server.prepare(data_dir, lambda state: _fill(state, out))
    running = live_server.start(data_dir)
    try:
        yield Shop(int(running.url.rsplit(":", 1)[1]), out["sku_id"], out["tokens"])
    finally:
        running.stop()


def post(path: str, body: Any, *, token: str = "", headers: str = "", version: str = "1.1") -> bytes:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/{version}\r\nHost: t\r\n{auth}{headers}"
        f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n"
    ).encode() + raw


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, value = line.split(": ", 1)
            headers[name.lower()] = f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
    return int(lines[0].split()[1]), headers, await reader.readexactly(int(headers["content-length"]))


async def purchase(port: int, token: str, sku_id: int, *, cookie: bool) -> list[Answer]:
    """Cart add, checkout and pay on one keep-alive connection; with a cookie, the ASGI route."""
    extra = "Cookie: probe=1\r\n" if cookie else ""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers: list[Answer] = []
    try:
        for raw in (
            post("/api/v1/cart/items", {"sku_id": sku_id, "quantity": 2}, token=token, headers=extra),
            post(
                "/api/v1/checkout",
                {"shipping_address": ADDRESS, "payment_provider": "sandbox"},
                token=token,
                headers=extra + f"Idempotency-Key: {token[:12]}\r\n",
            ),
        ):
            writer.write(raw)
            answers.append(await read_answer(reader))
        payment_id = orjson.loads(answers[-1][2])["payment"]["id"]
        writer.write(post(f"/api/v1/payments/sandbox/{payment_id}/pay", {"card_number": GOOD_CARD}, headers=extra))
        answers.append(await read_answer(reader))
        writer.write(post("/api/v1/payments/sandbox/pay_unknown/pay", {"card_number": GOOD_CARD}, headers=extra))
        answers.append(await read_answer(reader))
        writer.write(post("/api/v1/cart/items", b'{"sku_id": "x"}', token=token, headers=extra))
        answers.append(await read_answer(reader))
    finally:
        writer.close()
    return answers


def _shape(value: Any) -> Any:
    """The keys and types of a JSON answer, not its ids and times."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value[:1]]
    return type(value).__name__


async def test_given_a_purchase_below_asgi_then_answers_match_the_asgi_route(shop: Shop) -> None:
    direct = await purchase(shop.port, shop.tokens[0], shop.sku_id, cookie=False)
    through_asgi = await purchase(shop.port, shop.tokens[1], shop.sku_id, cookie=True)

    assert [status for status, _, _ in direct] == [201, 201, 202, 404, 422]
    assert [status for status, _, _ in through_asgi] == [201, 201, 202, 404, 422]
    for (_, direct_headers, direct_body), (_, asgi_headers, asgi_body) in zip(direct, through_asgi, strict=True):
        assert _shape(orjson.loads(direct_body)) == _shape(orjson.loads(asgi_body))
        # The same headers, the ASGI route's middleware aside (its session and CSRF cookies).
        assert set(asgi_headers) - set(direct_headers) <= {"set-cookie", "vary", "content-language"}
        assert direct_headers["content-type"] == "application/json"
        assert direct_headers["x-content-type-options"] == "nosniff"
    assert orjson.loads(direct[3][2])["code"] == orjson.loads(through_asgi[3][2])["code"]
    assert orjson.loads(direct[4][2]) == orjson.loads(through_asgi[4][2])  # the same validation problem


async def test_given_pipelined_buying_requests_then_answers_come_back_in_order(shop: Shop) -> None:
    token = shop.tokens[2]
    reader, writer = await asyncio.open_connection("127.0.0.1", shop.port)
    try:
        writer.write(
            post("/api/v1/cart/items", {"sku_id": shop.sku_id, "quantity": 1}, token=token)
            + b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
            + post("/api/v1/cart/items", {"sku_id": shop.sku_id, "quantity": 2}, token=token)
        )
        answers = [await read_answer(reader) for _ in range(3)]
    finally:
        writer.close()
    assert [status for status, _, _ in answers] == [201, 200, 201]
    assert [item["quantity"] for item in orjson.loads(answers[2][2])["items"]] == [3]


async def test_given_http_1_0_then_the_buying_answer_closes_the_connection(shop: Shop) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", shop.port)
    try:
        writer.write(
            post("/api/v1/cart/items", {"sku_id": shop.sku_id, "quantity": 1}, token=shop.tokens[3], version="1.0")
        )
        status, headers, _ = await read_answer(reader)
        assert status == 201 and headers["connection"] == "close"
        assert await asyncio.wait_for(reader.read(), 5) == b""
    finally:
        writer.close()


async def test_given_the_serve_protocol_then_buying_requests_skip_asgi_unless_they_need_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def answered_here(request: Request, route: buying_fastpath.BuyingRoute, parameter: str) -> Response:
        return JSONResponse(
            {
                "path": request.url.path,
                "parameter": parameter,
                "lang": request.query_params.get("lang"),
                "body": orjson.loads(await request.body()),
                "app": request.app is inner,
            },
            status_code=201,
        )

    async def through_asgi(*args: Any) -> Response:
        raise AssertionError("served through ASGI")

    monkeypatch.setattr(buying_fastpath, "serve", answered_here)
    monkeypatch.setattr(fastpath, "buying_fastpath", SimpleNamespace(match=buying_fastpath.match, serve=through_asgi))
    inner = FastAPI()
    inner.state.passerelle = SimpleNamespace(engine=None, db=SimpleNamespace(group_commit=object()))
    async with live_server.serve_protocol_in_process(inner) as port:
        await _check_paths(port)


async def _check_paths(port: int) -> None:
    async def one(raw: bytes) -> Answer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(raw)
            return await read_answer(reader)
        finally:
            writer.close()

    status, _, body = await one(post("/api/v1/payments/sandbox/pay_abc/pay?lang=fr", {"card_number": "4242"}))
    assert status == 201
    assert orjson.loads(body) == {
        "path": "/api/v1/payments/sandbox/pay_abc/pay",
        "parameter": "pay_abc",
        "lang": "fr",
        "body": {"card_number": "4242"},
        "app": True,
    }
    # Pipelined: the second request is parsed before the first one's task runs.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            post("/api/v1/payments/sandbox/pay_first/pay?lang=fr", {"card_number": "1"})
            + post("/api/v1/payments/sandbox/pay_second/pay?lang=de", {"card_number": "2"})
        )
        first = await read_answer(reader)
        second = await read_answer(reader)  # queued behind the first: through ASGI, failing here
    finally:
        writer.close()
    assert first[0] == 201 and second[0] == 500
    assert orjson.loads(first[2]) == {
        "path": "/api/v1/payments/sandbox/pay_first/pay",
        "parameter": "pay_first",
        "lang": "fr",
        "body": {"card_number": "1"},
        "app": True,
    }
    # A cookie (a browser: FastAPI's route, none in this app), an escaped path or
    # Expect: 100-continue (FastPath's buying route, failing here): not served below ASGI.
    statuses = [
        (await one(raw))[0]
        for raw in (
            post("/api/v1/cart/items", {"sku_id": 1}, headers="Cookie: s=1\r\n"),
            post("/api/v1/payments/sandbox/pay%5Fabc/pay", {"card_number": "4242"}),
            post("/api/v1/checkout", {}, headers="Expect: 100-continue\r\n"),
        )
    ]
    assert statuses == [404, 500, 500]


async def test_given_proxy_headers_or_answers_uvicorn_would_refuse_then_the_direct_path_does_as_uvicorn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scope a trusted proxy's headers make (uvicorn's ProxyHeadersMiddleware, on here for
    127.0.0.1), a receive that waits like uvicorn's, and answers that must not hang or leak:
    a streamed one, a header with a line break, a `Connection: close`."""

    async def answered_here(request: Request, route: buying_fastpath.BuyingRoute, parameter: str) -> Response:
        if parameter == "stream":
            return StreamingResponse(iter([b"{}"]), media_type="application/json")
        if parameter == "injected":
            return JSONResponse({}, headers={"x-note": "a\r\nset-cookie: evil=1"})
        if parameter == "closing":
            return JSONResponse({}, headers={"connection": "close"})
        assert request.client is not None
        return JSONResponse(
            {
                "scheme": request.url.scheme,
                "client": request.client.host,
                "http_version": request.scope["http_version"],
                "disconnected": await request.is_disconnected(),
            },
            status_code=201,
        )

    monkeypatch.setattr(buying_fastpath, "serve", answered_here)
    inner = FastAPI()
    inner.state.passerelle = SimpleNamespace(engine=None, db=SimpleNamespace(group_commit=object()))
    async with live_server.serve_protocol_in_process(inner) as port:

        async def answer_then_closed(raw: bytes) -> tuple[Answer, bool]:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(raw)
                answer = await read_answer(reader)
                closed = await asyncio.wait_for(reader.read(), 5) == b"" if answer[1].get("connection") else False
                return answer, closed
            finally:
                writer.close()

        forwarded = "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n"
        (status, headers, body), closed = await answer_then_closed(
            post("/api/v1/payments/sandbox/echo/pay", {"card_number": "1"}, headers=forwarded)
        )
        assert status == 201 and closed
        assert orjson.loads(body) == {
            "scheme": "https",
            "client": "203.0.113.9",
            "http_version": "1.1",
            "disconnected": False,
        }
        for parameter, expected in (("stream", 500), ("injected", 500), ("closing", 200)):
            (status, headers, _), closed = await answer_then_closed(
                post(f"/api/v1/payments/sandbox/{parameter}/pay", {"card_number": "1"})
            )
            assert (status, headers.get("connection"), closed) == (expected, "close", True), parameter
            assert "evil" not in str(headers)
