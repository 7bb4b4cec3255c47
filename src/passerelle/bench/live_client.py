"""The load process of `passerelle bench live`: N guest viewers and a few posters.

Usage: python -m passerelle.bench.live_client URL PLAN_JSON VIEWERS RATE SECONDS
Prints one JSON object. Frames are scanned with a regex rather than parsed, so that the
load process spends its one core on sockets, not on JSON.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from array import array
from pathlib import Path
from typing import Any

import websockets

STAMP = re.compile(r'"text":"bench (\d+)"')
CONNECTS_AT_ONCE = 200


class Tally:
    def __init__(self, viewers: int) -> None:
        self.viewers = viewers
        self.settled = asyncio.Event()  # every viewer connected or failed
        self.latencies = array("d")
        self.last_arrival = 0.0
        self.failed_connects = 0
        self.closed_early = 0

    def check_settled(self, ready: int) -> None:
        if ready + self.failed_connects >= self.viewers:
            self.settled.set()


async def viewer(url: str, tally: Tally, gate: asyncio.Semaphore, ready: list[int], stop: asyncio.Event) -> None:
    try:
        async with gate:
            socket = await websockets.connect(url, compression=None, ping_interval=None, open_timeout=60, max_queue=64)
    except (OSError, websockets.WebSocketException, TimeoutError):
        tally.failed_connects += 1
        tally.check_settled(ready[0])
        return
    ready[0] += 1
    tally.check_settled(ready[0])
    latencies = tally.latencies
    try:
        async for frame in socket:
            stamps = STAMP.findall(frame if isinstance(frame, str) else frame.decode())
            if stamps:
                now = time.monotonic_ns()
                for stamp in stamps:
                    latencies.append((now - int(stamp)) / 1e6)
                tally.last_arrival = time.monotonic()
            if stop.is_set():
                break
    except websockets.ConnectionClosed:
        if not stop.is_set():
            tally.closed_early += 1
    finally:
        await socket.close()


async def poster(url: str, token: str, every: float, until: float, sent: list[int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, additional_headers=headers, compression=None, ping_interval=None) as socket:
        next_at = time.monotonic()
        while next_at < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await socket.send(json.dumps({"type": "message", "text": f"bench {time.monotonic_ns()}"}))
            sent[0] += 1
            next_at += every
        await asyncio.sleep(0.2)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(share * len(values)))]


async def main(base: str, plan: dict[str, Any], viewers: int, rate: float, seconds: float) -> dict[str, Any]:
    url = base.replace("http://", "ws://") + f"/api/v1/live/rooms/{plan['room_id']}/ws"
    tally, ready, stop = Tally(viewers), [0], asyncio.Event()
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    started = time.monotonic()
    tasks = [asyncio.create_task(viewer(url, tally, gate, ready, stop)) for _ in range(viewers)]
    await tally.settled.wait()
    connect_s = time.monotonic() - started
    print(f"{ready[0]} viewers connected in {connect_s:.1f}s", file=sys.stderr)
    tokens: list[str] = plan["tokens"]
    every = len(tokens) / rate
    sent = [0]
    begin = time.monotonic()
    until = begin + seconds
    await asyncio.gather(*(poster(url, t, every, until, sent) for t in tokens))

    # Let the last frames arrive: stop once nothing came for 2 s (or after 30 s).
    def quiet_for() -> float:
        return time.monotonic() - max(tally.last_arrival, until)

    while quiet_for() < 2.0 and time.monotonic() - until < 30:  # noqa: ASYNC110 - polls a quiet period
        await asyncio.sleep(0.2)
    stop.set()
    elapsed = max(tally.last_arrival, until) - begin
    delivered = len(tally.latencies)
    expected = sent[0] * ready[0]
    ordered = sorted(tally.latencies)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "viewers": ready[0],
        "messages_per_s": round(sent[0] / seconds, 1),
        "deliveries_per_s": round(delivered / elapsed, 1),
        "p50_ms": round(percentile(ordered, 0.50), 1),
        "p99_ms": round(percentile(ordered, 0.99), 1),
        "dropped": expected - delivered,
        "messages": sent[0],
        "deliveries": delivered,
        "failed_connects": tally.failed_connects,
        "closed_early": tally.closed_early,
        "connect_s": round(connect_s, 1),
    }


if __name__ == "__main__":
    url, plan_file, n, per_s, duration = sys.argv[1:6]
    plan = json.loads(Path(plan_file).read_text())
    print(json.dumps(asyncio.run(main(url, plan, int(n), float(per_s), float(duration)))))
