"""Flash-deal claims through `passerelle edge`, for real: nginx with Debian's Lua module gathers
buyers' claims and hands them in batches to a real `passerelle serve` (POST /api/v1/claims:edge),
then answers each buyer with the server's answer for them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from passerelle.connect.edge.nginx import EdgeConfig, EdgeServer
from passerelle.festival import edge as claims_edge
from passerelle.infra.nginx import nginx_binary
from tests import live_server as live
from tests.festival.live_deal import festival_with_live_deal
from tests.services import free_port, unavailable

GATEWAY = "edge-claims-gateway"
STOCK = 10
ENV = {
    "PASSERELLE_GATEWAY_TOKEN": GATEWAY,
    "PASSERELLE_MAX_OPEN_RESERVATIONS": "0",
    "PASSERELLE_CLAIMS_PER_ACCOUNT_PER_SECOND": "1000",
    "PASSERELLE_CLAIMS_PER_IP_PER_SECOND": "1000",
    "PASSERELLE_RUN_WORKER": "false",
}


@dataclass
class Edge:
    data_dir: Path
    server: live.LiveServer
    upstream: str
    nginx: EdgeServer
    deal_id: int
    tokens: list[str]

    def client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=256)
        return httpx.AsyncClient(base_url=self.nginx.url, timeout=15, limits=limits)

    async def claim(self, client: httpx.AsyncClient, key: str, *, buyer: int = 0, quantity: int = 1) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[buyer]}", "Idempotency-Key": key}
        return await client.post(f"/api/v1/deals/{self.deal_id}/claims", json={"quantity": quantity}, headers=headers)


# A few claims per exchange at most, so that the races below also run the edge's splitting of
# a long queue into several exchanges.
BATCH_BYTES = 1_500


def edge_config(data_dir: Path, upstream: str, token: str, name: str, *, queue_limit: int = 5_000) -> EdgeConfig:
    root = data_dir / name
    return EdgeConfig(
        root=root,
        log=root / "clicks.log",
        port=free_port(),
        upstream=upstream,
        bind="127.0.0.1",
        gateway_token=token,
        claims_batch_bytes=BATCH_BYTES,
        claims_queue_limit=queue_limit,
    )


@contextmanager
def running_edge(data_dir: Path, *, stock: int, workers: int = 1) -> Iterator[Edge]:
    """A live deal of `stock` units on a real server, behind `passerelle edge` (`workers` nginx
    workers); stopped on leaving."""
    if nginx_binary() is None or not claims_edge.lua_available():
        unavailable("nginx with its Lua module is not installed (apt-get install libnginx-mod-http-lua lua-cjson)")
    out: dict[str, object] = {}
    live.prepare(data_dir, lambda state: festival_with_live_deal(state, out, stock))
    server = live.start(data_dir, extra_env=ENV)
    upstream = server.url.removeprefix("http://")
    config = replace(edge_config(data_dir, upstream, GATEWAY, "edge"), workers=workers)
    assert config.claims
    nginx = EdgeServer(config)
    try:
        nginx.start()
    except Exception:
        server.stop()
        raise
    try:
        yield Edge(data_dir, server, upstream, nginx, int(out["deal_id"]), list(out["tokens"]))  # type: ignore[call-overload, arg-type]
    finally:
        nginx.stop()
        server.stop()


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    with running_edge(tmp_path_factory.mktemp("edge-claims"), stock=STOCK) as started:
        yield started


async def claim_through(other: EdgeServer, edge: Edge, key: str, *, buyer: int) -> httpx.Response:
    """One claim through another edge in front of the same server, started for it."""
    other.start()
    try:
        async with httpx.AsyncClient(base_url=other.url, timeout=15) as client:
            return await edge.claim(client, key, buyer=buyer)
    finally:
        other.stop()


async def remaining(edge: Edge) -> int:
    async with edge.client() as client:
        return int((await client.get(f"/api/v1/deals/{edge.deal_id}")).json()["remaining"])


async def test_given_a_claim_through_the_edge_then_reserved_and_its_retry_gets_the_same_answer(edge: Edge) -> None:
    async with edge.client() as client:
        first = await edge.claim(client, "edge-first")
        again = await edge.claim(client, "edge-first")
        reused = await edge.claim(client, "edge-first", quantity=2)
        anonymous = await client.post(f"/api/v1/deals/{edge.deal_id}/claims", json={"quantity": 1})
        listed = await client.get(f"/api/v1/deals/{edge.deal_id}/claims")  # not a claim: proxied
    assert first.status_code == 201, first.text
    assert first.headers["content-type"] == "application/json"
    assert first.json()["status"] == "reserved" and first.json()["deal_id"] == edge.deal_id
    assert again.status_code == 201 and again.json() == first.json()
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")
    assert listed.status_code == 405
    assert await remaining(edge) == STOCK - 1


async def test_given_200_concurrent_claims_for_the_last_units_then_exactly_that_many_are_reserved(edge: Edge) -> None:
    left = await remaining(edge)
    async with edge.client() as client:
        answers = await asyncio.gather(
            *(edge.claim(client, f"race-{n}", buyer=n % len(edge.tokens)) for n in range(200))
        )
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(201) == left
    assert statuses.count(409) == 200 - left
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"sold_out"}
    assert len({answer.json()["reservation_id"] for answer in answers if answer.status_code == 201}) == left
    assert await remaining(edge) == 0


async def test_given_a_large_or_non_ascii_claim_then_the_edge_refuses_it_alone(edge: Edge) -> None:
    path = f"/api/v1/deals/{edge.deal_id}/claims"
    headers = {"Authorization": f"Bearer {edge.tokens[1]}"}
    async with edge.client() as client:
        large = await client.post(path, content=b" " * 20_000, headers=headers)
        accented = await client.post(
            path, json={"quantity": 1}, headers={**headers, "Idempotency-Key": "caf\xe9".encode("latin-1")}
        )
        others = await edge.claim(client, "after-the-refusals", buyer=2)
    assert (large.status_code, large.json()["code"]) == (413, "body_too_large")
    assert (accented.status_code, accented.json()["code"]) == (422, "invalid_request")
    assert (others.status_code, others.json()["code"]) == (409, "sold_out")  # answered by the server as usual


async def test_given_no_gateway_token_then_the_edge_proxies_claims_to_the_server(edge: Edge) -> None:
    config = edge_config(edge.data_dir, edge.upstream, "", "edge-plain")
    assert not config.claims
    assert "passerelle_claims" not in config.render()
    answer = await claim_through(EdgeServer(config), edge, "through-the-proxy", buyer=3)
    assert (answer.status_code, answer.json()["code"]) == (409, "sold_out")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    finally:
        writer.close()


async def test_given_an_ipv6_upstream_then_the_edge_batches_claims_to_it(edge: Edge) -> None:
    """`--upstream [::1]:port`: nginx's upstream and the Lua batcher's own socket both reach it
    (the server listens on IPv4 here: a relay on ::1 stands in for an IPv6 one)."""
    server_host, _, server_port = edge.upstream.rpartition(":")

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(server_host, int(server_port))
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    relays = await asyncio.start_server(relay, "::1", 0)
    relay_port = relays.sockets[0].getsockname()[1]
    try:
        config = edge_config(edge.data_dir, f"[::1]:{relay_port}", GATEWAY, "edge-ipv6")
        assert f"server [::1]:{relay_port};" in config.render()
        answer = await claim_through(EdgeServer(config), edge, "through-ipv6", buyer=5)
    finally:
        relays.close()
    assert answer.status_code in (201, 409), answer.text
    assert answer.json().get("code", "reserved") in ("sold_out", "reserved")  # the server's answer


async def test_given_a_full_queue_at_the_edge_then_it_answers_busy_with_the_buyers_place(edge: Edge) -> None:
    full = EdgeServer(edge_config(edge.data_dir, edge.upstream, GATEWAY, "edge-full", queue_limit=0))
    answer = await claim_through(full, edge, "into-a-full-queue", buyer=4)
    assert (answer.status_code, answer.headers["retry-after"]) == (429, "1")
    assert answer.json() == {
        "code": "busy",
        "message": "Many buyers right now; retry in a moment",
        "queue_position": 0,
    }


async def test_given_the_server_down_then_each_waiting_buyer_gets_502_and_may_retry(edge: Edge) -> None:
    edge.server.stop()  # the last test of the module: the fixture's stop is then a no-op
    async with edge.client() as client:
        answers = await asyncio.gather(*(edge.claim(client, f"down-{n}", buyer=n) for n in range(5)))
    assert {(answer.status_code, answer.json()["code"]) for answer in answers} == {(502, "edge_upstream_failed")}
