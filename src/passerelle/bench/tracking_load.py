"""Load generator for `passerelle bench tracking`, run as its own process: signs carrier
events like the sandbox carrier does and posts them, one per request or in batches; prints
JSON stats (requests, answers, latency per request)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from passerelle.bench.latency import percentile
from passerelle.payments.signing import SIGNATURE_HEADER, sign

PATH = "/api/v1/logistics/carriers/sandbox/events"


async def run(url: str, events: list[dict[str, Any]], *, secret: str, batch: int, concurrency: int) -> dict[str, Any]:
    bodies: list[Any] = (
        events if batch == 1 else [{"events": events[i : i + batch]} for i in range(0, len(events), batch)]
    )
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    outcome = {"applied": 0, "duplicates": 0, "errors": 0, "requests": 0}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                raw = orjson.dumps(body)
                headers = {
                    "content-type": "application/json",
                    SIGNATURE_HEADER: sign(secret, timestamp=int(time.time()), body=raw),
                }
                started = time.perf_counter()
                for _attempt in range(3):  # a carrier retries what was not acknowledged
                    try:
                        response = await client.post(PATH, content=raw, headers=headers)
                    except httpx.HTTPError:
                        continue
                    if response.status_code == 200:
                        break
                else:
                    outcome["errors"] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                outcome["requests"] += 1
                answer = response.json()
                if batch == 1:
                    outcome["applied" if answer["status"] == "applied" else "duplicates"] += 1
                else:
                    outcome["applied"] += answer["applied"]
                    outcome["duplicates"] += answer["duplicates"]

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        **outcome,
        "sent": len(events),
        "elapsed_s": elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--events", required=True, type=Path)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    events = json.loads(args.events.read_text())
    stats = asyncio.run(run(args.url, events, secret=args.secret, batch=args.batch, concurrency=args.concurrency))
    json.dump(stats, sys.stdout)


if __name__ == "__main__":
    main()
