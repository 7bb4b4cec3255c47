"""`passerelle edge` reloaded (SIGHUP: new configuration, new nginx workers) while buyers'
claims are in flight, with two workers gathering claims side by side: every buyer gets the
server's answer, and each claim is reserved exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from passerelle.bench.server import children_of
from tests.festival.test_edge_claims import Edge, remaining, running_edge

STOCK = 5_000
CLAIMS = 600
RELOADS = 4


@pytest.fixture
def busy_edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    with running_edge(tmp_path_factory.mktemp("edge-reload"), stock=STOCK, workers=2) as started:
        yield started


async def test_given_reloads_while_claims_are_in_flight_then_each_buyer_is_answered_and_reserved_once(
    busy_edge: Edge,
) -> None:
    edge = busy_edge
    assert edge.nginx.nginx.process is not None
    master = edge.nginx.nginx.process.pid
    first_workers = set(children_of(master))
    assert len(first_workers) >= 2  # the two workers (and the proxy cache's manager and loader)
    async with edge.client() as client:

        async def claim(n: int) -> httpx.Response:
            # A buyer whose connection the old worker closed retries with the same key, as a
            # client of an idempotent API does.
            for _ in range(5):
                try:
                    return await edge.claim(client, f"reload-{n}", buyer=n % len(edge.tokens))
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            raise AssertionError(f"claim {n} never got an answer")

        async def reload_while_claiming() -> None:
            for _ in range(RELOADS):
                await asyncio.sleep(0.1)
                edge.nginx.reload()

        answers, _ = await asyncio.gather(asyncio.gather(*(claim(n) for n in range(CLAIMS))), reload_while_claiming())
        again = await asyncio.gather(*(claim(n) for n in range(0, CLAIMS, 7)))

    statuses = sorted({answer.status_code for answer in answers})
    assert statuses == [201], [(a.status_code, a.text[:200]) for a in answers if a.status_code != 201][:5]
    reservations = [answer.json()["reservation_id"] for answer in answers]
    assert len(set(reservations)) == CLAIMS  # one reservation per claim, none twice
    assert [a.json() for a in again] == [answers[n].json() for n in range(0, CLAIMS, 7)]  # retries: the same answer
    assert await remaining(edge) == STOCK - CLAIMS
    for _ in range(100):  # reloaded: the processes it started with leave once their buyers are answered
        if not set(children_of(master)) & first_workers:
            break
        await asyncio.sleep(0.1)
    assert not set(children_of(master)) & first_workers


async def test_given_a_claim_whose_body_arrives_after_a_reload_then_the_old_worker_still_answers_it(
    busy_edge: Edge,
) -> None:
    """The reloaded worker's flusher leaves once its queue is empty; a claim still reaching that
    worker (its headers were in before the reload, its body comes after) is handed over by
    the request itself instead of waiting for a flusher that is gone."""
    edge = busy_edge
    body = b'{"quantity": 1}'
    head = (
        f"POST /api/v1/deals/{edge.deal_id}/claims HTTP/1.1\r\nHost: edge\r\n"
        f"Authorization: Bearer {edge.tokens[0]}\r\nIdempotency-Key: late-body\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.nginx.config.port)
    try:
        writer.write(head + body[:3])
        await writer.drain()
        await asyncio.sleep(0.2)  # the request is in a worker, reading its body
        edge.nginx.reload()
        await asyncio.sleep(1.2)  # the old worker's flusher has seen it is exiting and left
        writer.write(body[3:])
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), timeout=5)  # well before the edge's 10 s
    finally:
        writer.close()
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 201 Created", answer[:300]
    assert b'"status":"reserved"' in answer
