"""`passerelle bench engine`: the claim engine in-process (no HTTP), durable on SQLite
FULL, against the one-transaction-per-claim way measured in the same run."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from passerelle.bench.latency import percentile
from passerelle.festival.engine import rules
from passerelle.festival.engine.journal import SqliteJournal
from passerelle.festival.engine.rules import Claim, Deal
from passerelle.festival.engine.shard import Shard
from passerelle.festival.engine.tuning import tune_collector

CHUNK = 4096


def make_claims(*, claims: int, buyers: int, deals: int, seed: int = 583) -> list[Claim]:
    rng = random.Random(seed)
    return [(rng.randrange(deals) + 1, rng.randrange(buyers) + 1, f"k{i}", 1, i) for i in range(claims)]


async def _engine_run(journal_path: Path, claims: list[Claim], *, deals: int, stock: int, limit: int) -> dict[str, Any]:
    journal = SqliteJournal(journal_path)
    shard = Shard(journal)
    now = time.time()
    shard.add_deals([(Deal(deal_id, 0, limit, now - 60, now + 3600, 900), stock) for deal_id in range(1, deals + 1)])
    shard.start()
    tune_collector()  # as the server does when it starts its shards
    started, cpu_started = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(shard.claim_many(claims[i : i + CHUNK]) for i in range(0, len(claims), CHUNK)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await shard.stop()
    answers = [a for chunk in results for a in chunk]
    acknowledged = {outcome for outcome in answers if type(outcome) is int}
    codes: dict[str, int] = {rules.RESERVED: len(acknowledged)}
    for outcome in answers:
        if type(outcome) is str:
            codes[outcome] = codes.get(outcome, 0) + 1
    journal.close()
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "acknowledged": acknowledged,
        "codes": codes,
        "batches": shard.batch_seconds,
    }


def _audit(journal_path: Path, acknowledged: set[int], *, stock: int) -> dict[str, int]:
    """Read back what is durable: nothing oversold, no key twice, no acknowledged claim lost."""
    journal = SqliteJournal(journal_path)
    per_deal: dict[int, int] = {}
    per_key: dict[tuple[int, str], int] = {}
    stored: set[int] = set()
    for rows, _changes in journal.replay():
        for seq, deal_id, buyer, key, _fp, quantity, _c, _e in rows:
            stored.add(seq)
            per_deal[deal_id] = per_deal.get(deal_id, 0) + quantity
            per_key[(buyer, key)] = per_key.get((buyer, key), 0) + 1
    journal.close()
    return {
        "oversold": sum(max(0, n - stock) for n in per_deal.values()),
        "duplicates": sum(1 for n in per_key.values() if n > 1),
        "lost": len(acknowledged - stored),
    }


def naive_rate(path: Path, claims: list[Claim], *, deals: int, stock: int, seconds: float = 3.0) -> float:
    """One transaction per claim: conditional UPDATE + INSERT + COMMIT, synchronous=FULL."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE deals (deal_id INTEGER PRIMARY KEY, remaining INTEGER NOT NULL)")
    conn.execute(
        "CREATE TABLE claims (id INTEGER PRIMARY KEY, deal_id INT, buyer_id INT, idem_key TEXT, UNIQUE (buyer_id, idem_key))"
    )
    conn.executemany("INSERT INTO deals VALUES (?, ?)", [(d, stock) for d in range(1, deals + 1)])
    done = 0
    started = time.perf_counter()
    for claim in claims:
        conn.execute("BEGIN IMMEDIATE")
        updated = conn.execute(
            "UPDATE deals SET remaining = remaining - ? WHERE deal_id = ? AND remaining >= ?",
            (claim[3], claim[0], claim[3]),
        ).rowcount
        if updated:
            conn.execute(
                "INSERT INTO claims (deal_id, buyer_id, idem_key) VALUES (?, ?, ?)", (claim[0], claim[1], claim[2])
            )
        conn.execute("COMMIT")
        done += 1
        if done % 256 == 0 and time.perf_counter() - started > seconds:
            break
    elapsed = time.perf_counter() - started
    conn.close()
    return done / elapsed


def run(
    *, claims: int = 1_000_000, buyers: int = 100_000, deals: int = 1000, stock: int = 600, limit: int = 4
) -> dict[str, Any]:
    workload = make_claims(claims=claims, buyers=buyers, deals=deals)
    with tempfile.TemporaryDirectory(prefix="passerelle-engine-") as tmp:
        journal_path = Path(tmp) / "journal.db"
        # On uvloop, the event loop `passerelle serve` runs the engine on.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(_engine_run(journal_path, workload, deals=deals, stock=stock, limit=limit))
        audit = _audit(journal_path, result["acknowledged"], stock=stock)
        naive = naive_rate(Path(tmp) / "naive.db", workload, deals=deals, stock=stock)
    claims_per_s = claims / result["elapsed"]
    return {
        "claims_per_s": round(claims_per_s),
        "p99_batch_ms": percentile(result["batches"], 0.99),
        "p50_batch_ms": percentile(result["batches"], 0.5),
        "batches": len(result["batches"]),
        # CPU of the whole process (rules, journal thread) per claim: steadier than the
        # rate when the machine is shared.
        "cpu_us_per_claim": round(result["cpu"] / claims * 1e6, 2),
        "naive_claims_per_s": round(naive),
        "ratio": round(claims_per_s / naive, 1),
        "claims": claims,
        "buyers": buyers,
        "deals": deals,
        "answers": result["codes"],
        **audit,
    }
