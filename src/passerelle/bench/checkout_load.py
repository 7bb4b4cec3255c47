"""Load generator for `passerelle bench checkout`, run as its own process:
each buyer adds to cart, checks out, pays on the sandbox; prints JSON stats. Plain
keep-alive HTTP/1.1 (bench/raw_http.py): with httpx this process, not the server, was
the limit."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from passerelle.bench.latency import percentile
from passerelle.bench.raw_http import Connection

ADDRESS = {"name": "Bench Buyer", "line1": "1 rue du Test", "city": "Paris", "postal_code": "75001", "country": "FR"}
CHECKOUT_BODY = orjson.dumps({"shipping_address": ADDRESS, "payment_provider": "sandbox"})
PAY_BODY = orjson.dumps({"card_number": "4242424242424242"})


async def one_buyer(
    connection: Connection, buyer: dict[str, Any], latencies: list[float], outcome: dict[str, int]
) -> None:
    headers = {"authorization": f"Bearer {buyer['token']}"}
    started = time.perf_counter()
    status, _ = await connection.post(
        "/api/v1/cart/items", orjson.dumps({"sku_id": buyer["sku_id"], "quantity": 1}), headers
    )
    if status != 201:
        outcome["errors"] += 1
        return
    status, answer = await connection.post(
        "/api/v1/checkout", CHECKOUT_BODY, {**headers, "idempotency-key": f"bench-{buyer['token'][:16]}"}
    )
    if status == 409 and orjson.loads(answer).get("code") == "out_of_stock":
        outcome["out_of_stock"] += 1
        return
    if status != 201:
        outcome["errors"] += 1
        return
    payment_id = orjson.loads(answer)["payment"]["id"]
    status, _ = await connection.post(f"/api/v1/payments/sandbox/{payment_id}/pay", PAY_BODY)
    if status != 202:
        outcome["errors"] += 1
        return
    latencies.append(time.perf_counter() - started)
    outcome["submitted"] += 1


async def run(url: str, buyers: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    outcome = {"submitted": 0, "errors": 0, "out_of_stock": 0}
    queue = list(reversed(buyers))  # pop() from the end keeps the planned order
    parts = urlsplit(url)

    async def worker() -> None:
        async with Connection(parts.hostname or "127.0.0.1", parts.port or 80) as connection:
            while queue:
                buyer = queue.pop()
                try:
                    await one_buyer(connection, buyer, latencies, outcome)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    outcome["errors"] += 1

    started_unix = time.time()  # the bench's clock starts here, not at this process's start-up
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        **outcome,
        "started_unix": started_unix,
        "elapsed_s": elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--buyers", required=True, type=Path)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    buyers = json.loads(args.buyers.read_text())
    json.dump(asyncio.run(run(args.url, buyers, args.concurrency)), sys.stdout)


if __name__ == "__main__":
    main()
