"""A real server under claim load is SIGKILLed several times and restarted: after each
restart every acknowledged claim is there exactly once and the stock adds up."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx

from passerelle.festival.engine.journal import SqliteJournal
from passerelle.festival.engine.rules import HELD, SOLD
from tests import live_server
from tests.festival.live_deal import festival_with_live_deal

STOCK = 400
ENV = {
    "PASSERELLE_MAX_OPEN_RESERVATIONS": "0",
    "PASSERELLE_CLAIMS_PER_ACCOUNT_PER_SECOND": "100000",
    "PASSERELLE_CLAIMS_PER_IP_PER_SECOND": "100000",
}


async def _hammer(
    url: str,
    deal_id: int,
    tokens: list[str],
    keys: itertools.count[int],
    acknowledged: dict[str, int],
    stop: asyncio.Event,
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while not stop.is_set():
            n = next(keys)
            key = f"crash-{n}"
            try:
                response = await client.post(
                    f"/api/v1/deals/{deal_id}/claims",
                    json={"quantity": 1},
                    headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}", "Idempotency-Key": key},
                )
            except httpx.HTTPError:
                return  # the server died under us: whatever was not answered was not acknowledged
            if response.status_code == 201:
                acknowledged[key] = response.json()["reservation_id"]
            elif response.status_code != 409:  # sold out is expected; anything else is a bug
                raise AssertionError(f"unexpected answer {response.status_code}: {response.text}")


async def test_given_kill_9_under_load_then_every_acknowledged_claim_survives_exactly_once(tmp_path: Path) -> None:
    out: dict[str, object] = {}
    await asyncio.to_thread(live_server.prepare, tmp_path, lambda state: festival_with_live_deal(state, out, STOCK))
    deal_id = int(out["deal_id"])  # type: ignore[call-overload]
    tokens: list[str] = out["tokens"]  # type: ignore[assignment]
    acknowledged: dict[str, int] = {}
    keys = itertools.count()
    for _round in range(3):
        server = await asyncio.to_thread(live_server.start, tmp_path, extra_env=ENV)
        stop = asyncio.Event()
        workers = [
            asyncio.create_task(_hammer(server.url, deal_id, tokens, keys, acknowledged, stop)) for _ in range(16)
        ]
        # Kill only once claims are flowing (a slow machine may take a while to answer the first).
        target = len(acknowledged) + 25
        for _ in range(400):
            if len(acknowledged) >= target:
                break
            await asyncio.sleep(0.05)
        server.process.kill()  # SIGKILL mid-load: no shutdown, no flush
        await asyncio.to_thread(server.process.wait)
        stop.set()
        await asyncio.gather(*workers)

        journal = SqliteJournal(tmp_path / "engine" / "journal.db")
        book = journal.load()
        journal.close()
        by_key = {key: seq for (_buyer, key), seq in book.keys.items()}
        for key, seq in acknowledged.items():
            assert by_key.get(key) == seq, f"acknowledged claim {key} lost or changed after kill -9"
        held = sum(row[5] for seq, row in book.reservations.items() if book.status(seq) == HELD)
        sold = sum(row[5] for seq, row in book.reservations.items() if book.status(seq) == SOLD)
        assert book.deals[deal_id].remaining + held + sold == STOCK
        assert len(book.reservations) == len(set(book.reservations))

    assert acknowledged, "the load never got a claim through"
    server = await asyncio.to_thread(live_server.start, tmp_path, extra_env=ENV)
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            # Replaying an acknowledged key answers the same reservation, not a second one.
            key, seq = next(iter(acknowledged.items()))
            n = int(key.split("-")[1])
            again = await client.post(
                f"/api/v1/deals/{deal_id}/claims",
                json={"quantity": 1},
                headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}", "Idempotency-Key": key},
            )
            assert again.status_code == 201 and again.json()["reservation_id"] == seq
            remaining = (await client.get(f"/api/v1/deals/{deal_id}")).json()["remaining"]
            # Durable claims whose answer never reached the client still hold their unit.
            assert remaining == STOCK - len(book.reservations)
    finally:
        server.stop()


async def test_given_redis_when_server_and_redis_are_killed_under_load_then_acknowledged_claims_survive(
    tmp_path: Path,
) -> None:
    """With PASSERELLE_REDIS_URL the durable state is Redis (AOF, fsync always): SIGKILL the
    API server and redis-server together, restart both, and every acknowledged claim is there."""
    import redis.asyncio as aioredis

    from passerelle.festival.engine.redis_shard import RedisShard
    from tests.services import start_redis

    out: dict[str, object] = {}
    await asyncio.to_thread(live_server.prepare, tmp_path, lambda state: festival_with_live_deal(state, out, STOCK))
    deal_id = int(out["deal_id"])  # type: ignore[call-overload]
    tokens: list[str] = out["tokens"]  # type: ignore[assignment]
    redis = await asyncio.to_thread(start_redis)
    acknowledged: dict[str, int] = {}
    keys = itertools.count()
    try:
        for _round in range(2):
            env = {**ENV, "PASSERELLE_REDIS_URL": redis.url}
            server = await asyncio.to_thread(live_server.start, tmp_path, extra_env=env)
            stop = asyncio.Event()
            workers = [
                asyncio.create_task(_hammer(server.url, deal_id, tokens, keys, acknowledged, stop)) for _ in range(16)
            ]
            target = len(acknowledged) + 25
            for _ in range(400):
                if len(acknowledged) >= target:
                    break
                await asyncio.sleep(0.05)
            assert redis.process is not None
            redis.process.kill()  # the store dies first, then the server: nothing gets flushed
            server.process.kill()
            await asyncio.to_thread(redis.process.wait)
            await asyncio.to_thread(server.process.wait)
            stop.set()
            await asyncio.gather(*workers)
            redis = await asyncio.to_thread(start_redis, redis.directory, redis.port)

            client = aioredis.from_url(redis.url, decode_responses=True)
            tag = f"passerelle:{{deal:{deal_id}}}"
            stored = await client.hgetall(f"{tag}:keys")  # "buyer:key" -> "fingerprint:seq"
            rows = await client.hgetall(f"{tag}:res")  # seq -> "buyer:qty:expires:status"
            remaining = int(await client.get(f"{tag}:remaining") or 0)
            await client.aclose()
            by_key = {handle.split(":", 1)[1]: int(value.split(":")[1]) for handle, value in stored.items()}
            for key, reservation in acknowledged.items():
                assert by_key.get(key) == reservation & 0xFFFFFFFF, f"acknowledged claim {key} lost after kill -9"
            units = sum(int(row.split(":")[1]) for row in rows.values() if row.split(":")[3] in ("0", "1"))
            assert remaining + units == STOCK
            assert len(rows) == len(stored)  # one reservation per accepted key, none twice
        assert acknowledged
        # The restarted engine on the same Redis answers a replayed key with its reservation.
        shard = RedisShard(redis.url)
        key, reservation = next(iter(acknowledged.items()))
        found = await shard.reservation(reservation)
        assert found is not None and found[0] == deal_id
        await shard.redis.aclose()
    finally:
        redis.stop()
