"""Load processes of `passerelle bench live`, one role each so posting keeps its pace:

  python -m passerelle.bench.live_client viewers URL ROOM_ID N
      connects N guest viewers, prints {"ready": n, ...}, records every chat arrival until
      its stdin closes (the posters are done) and nothing arrived for 2 s; prints the tally.
  python -m passerelle.bench.live_client posters URL PLAN_JSON RATE SECONDS
      logged-in posters sending "bench <CLOCK_MONOTONIC ns>" at RATE messages/s in total.

Viewers are bare WebSocket protocols (bench/ws_viewer.py) whose frames are scanned with a
regex rather than parsed, so that the viewers process costs less than the server it
measures. CLOCK_MONOTONIC is one clock for every process on Linux.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from array import array
from pathlib import Path
from typing import Any

import websockets

from passerelle.bench.ws_viewer import latency_recorder, open_viewer

CONNECTS_AT_ONCE = 200


def socket_url(base: str, room_id: int) -> str:
    return base.replace("http://", "ws://") + f"/api/v1/live/rooms/{room_id}/ws"


class Tally:
    def __init__(self, viewers: int) -> None:
        self.viewers = viewers
        self.ready = 0
        self.failed_connects = 0
        self.closed_early = 0
        self.settled = asyncio.Event()  # every viewer connected or failed
        self.stopping = False
        self.latencies = array("d")
        self.last_arrival = 0.0

    def connected(self, ok: bool) -> None:
        if ok:
            self.ready += 1
        else:
            self.failed_connects += 1
        if self.ready + self.failed_connects >= self.viewers:
            self.settled.set()


async def viewer(url: str, tally: Tally, gate: asyncio.Semaphore) -> None:
    def arrived() -> None:
        tally.last_arrival = time.monotonic()

    try:
        async with gate, asyncio.timeout(120):
            socket = await open_viewer(url, latency_recorder(tally.latencies, arrived))
    except (OSError, ConnectionError, TimeoutError):
        tally.connected(False)
        return
    tally.connected(True)
    try:
        await asyncio.shield(socket.closed)
        if not tally.stopping:
            tally.closed_early += 1
    finally:
        socket.close()


async def run_viewers(base: str, room_id: int, viewers: int) -> dict[str, Any]:
    url = socket_url(base, room_id)
    tally = Tally(viewers)
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    started = time.monotonic()
    tasks = [asyncio.create_task(viewer(url, tally, gate)) for _ in range(viewers)]
    await tally.settled.wait()
    connect_s = time.monotonic() - started
    print(json.dumps({"ready": tally.ready, "connect_s": round(connect_s, 1)}), flush=True)
    await asyncio.to_thread(sys.stdin.read)  # EOF: the posters are done
    done_at = time.monotonic()

    def quiet_for() -> float:
        return time.monotonic() - max(tally.last_arrival, done_at)

    while quiet_for() < 2.0 and time.monotonic() - done_at < 60:  # noqa: ASYNC110 - polls a quiet period
        await asyncio.sleep(0.2)
    tally.stopping = True
    ordered = sorted(tally.latencies)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "viewers": tally.ready,
        "deliveries": len(ordered),
        "last_arrival": tally.last_arrival,
        "p50_ms": round(percentile(ordered, 0.50), 1),
        "p99_ms": round(percentile(ordered, 0.99), 1),
        "failed_connects": tally.failed_connects,
        "closed_early": tally.closed_early,
        "connect_s": round(connect_s, 1),
    }


async def poster(url: str, token: str, every: float, start: float, until: float, counts: dict[str, int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(
        url, additional_headers=headers, compression=None, ping_interval=None, open_timeout=120
    ) as socket:

        async def refusals() -> None:  # errors come back to the sender only
            async for frame in socket:
                counts["rejected"] += str(frame).count('"type":"error"')

        reading = asyncio.create_task(refusals())
        next_at = start
        while next_at < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await socket.send(json.dumps({"type": "message", "text": f"bench {time.monotonic_ns()}"}))
            counts["sent"] += 1
            next_at += every
        await asyncio.sleep(3.0)
        reading.cancel()


async def run_posters(base: str, plan: dict[str, Any], rate: float, seconds: float) -> dict[str, Any]:
    url = socket_url(base, plan["room_id"])
    tokens: list[str] = plan["tokens"]
    counts = {"sent": 0, "rejected": 0}
    began = time.monotonic() + 5.0  # after every poster has connected
    every = len(tokens) / rate
    # Staggered, so the total rate is even rather than a burst of len(tokens) at once.
    await asyncio.gather(
        *(poster(url, t, every, began + i * every / len(tokens), began + seconds, counts) for i, t in enumerate(tokens))
    )
    return {"messages": counts["sent"], "rejected": counts["rejected"], "began": began, "seconds": seconds}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(share * len(values)))]


if __name__ == "__main__":
    role, url = sys.argv[1:3]
    if role == "viewers":
        result = asyncio.run(run_viewers(url, int(sys.argv[3]), int(sys.argv[4])))
    else:
        plan = json.loads(Path(sys.argv[3]).read_text())
        result = asyncio.run(run_posters(url, plan, float(sys.argv[4]), float(sys.argv[5])))
    print(json.dumps(result), flush=True)
