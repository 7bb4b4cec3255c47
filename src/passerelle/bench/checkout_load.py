"""Load generator for `passerelle bench checkout`, run as its own process:
each buyer adds to cart, checks out, pays on the sandbox; prints JSON stats."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from passerelle.bench.latency import percentile

ADDRESS = {"name": "Bench Buyer", "line1": "1 rue du Test", "city": "Paris", "postal_code": "75001", "country": "FR"}


async def one_buyer(
    client: httpx.AsyncClient, buyer: dict[str, Any], latencies: list[float], outcome: dict[str, int]
) -> None:
    headers = {"Authorization": f"Bearer {buyer['token']}"}
    started = time.perf_counter()
    added = await client.post("/api/v1/cart/items", json={"sku_id": buyer["sku_id"], "quantity": 1}, headers=headers)
    if added.status_code != 201:
        outcome["errors"] += 1
        return
    placed = await client.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_provider": "sandbox"},
        headers={**headers, "Idempotency-Key": f"bench-{buyer['token'][:16]}"},
    )
    if placed.status_code == 409 and placed.json().get("code") == "out_of_stock":
        outcome["out_of_stock"] += 1
        return
    if placed.status_code != 201:
        outcome["errors"] += 1
        return
    payment_id = placed.json()["payment"]["id"]
    paid = await client.post(f"/api/v1/payments/sandbox/{payment_id}/pay", json={"card_number": "4242424242424242"})
    if paid.status_code != 202:
        outcome["errors"] += 1
        return
    latencies.append(time.perf_counter() - started)
    outcome["submitted"] += 1


async def run(url: str, buyers: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    outcome = {"submitted": 0, "errors": 0, "out_of_stock": 0}
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for buyer in buyers:
        queue.put_nowait(buyer)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                buyer = queue.get_nowait()
                try:
                    await one_buyer(client, buyer, latencies, outcome)
                except httpx.HTTPError:
                    outcome["errors"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        **outcome,
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
