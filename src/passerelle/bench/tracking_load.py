"""Load generator for `passerelle bench tracking`, run as its own process: signs carrier
events like the sandbox carrier does and posts them, one per request or in batches; prints
JSON stats (requests, answers, latency per request).

Requests are signed before the clock starts (a signature stays valid 5 minutes) and sent
over plain keep-alive HTTP/1.1 connections (bench/raw_http.py): a Python HTTP client
library costs more CPU per request than the server's handler, on the same two cores."""

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
from passerelle.bench.raw_http import exchange, request_bytes
from passerelle.payments.signing import SIGNATURE_HEADER, sign

PATH = "/api/v1/logistics/carriers/sandbox/events"


def _request(host: str, body: bytes, secret: str) -> bytes:
    signature = sign(secret, timestamp=int(time.time()), body=body)
    return request_bytes("POST", PATH, host, body, {SIGNATURE_HEADER: signature})


async def run(url: str, events: list[dict[str, Any]], *, secret: str, batch: int, concurrency: int) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    bodies: list[Any] = (
        events if batch == 1 else [{"events": events[i : i + batch]} for i in range(0, len(events), batch)]
    )
    requests = [_request(f"{host}:{port}", orjson.dumps(body), secret) for body in bodies]
    latencies: list[float] = []
    outcome = {"applied": 0, "duplicates": 0, "errors": 0, "requests": 0}

    async def worker(queue: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while queue:
                request = queue.pop()
                started = time.perf_counter()
                for _attempt in range(3):  # a carrier retries what was not acknowledged
                    try:
                        status, payload = await exchange(reader, writer, request)
                    except (OSError, asyncio.IncompleteReadError, ValueError):
                        writer.close()
                        reader, writer = await asyncio.open_connection(host, port)
                        continue
                    if status == 200:
                        break
                else:
                    outcome["errors"] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                outcome["requests"] += 1
                answer = orjson.loads(payload)
                if batch == 1:
                    outcome["applied" if answer["status"] == "applied" else "duplicates"] += 1
                else:
                    outcome["applied"] += answer["applied"]
                    outcome["duplicates"] += answer["duplicates"]
        finally:
            writer.close()

    queue = list(reversed(requests))  # pop() from the end keeps the planned order
    started = time.perf_counter()
    await asyncio.gather(*(worker(queue) for _ in range(concurrency)))
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
