"""`passerelle bench live`: chat fan-out of one room to N WebSocket viewers, real server.

A fresh embedded server (`passerelle serve`, one process, in-process hub), one load process
holding N guest viewers, and once they are all connected another with a few logged-in
posters (live_client.py). The posters send chat at a fixed total rate, each message stamped
with CLOCK_MONOTONIC (one clock for all processes on Linux); every viewer notes when each
message arrives. Latency is
post -> arrival at a viewer, over every delivery; `dropped` is deliveries that never came.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from passerelle.accounts.models import User
from passerelle.bench.fixtures import make_buyers
from passerelle.bench.server import BenchServer
from passerelle.config import Settings
from passerelle.db import migrate
from passerelle.live import service
from passerelle.state import AppState


def raise_open_files(wanted: int) -> int:
    """Sockets are files: lift the soft limit as far as the hard limit allows (children inherit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _prepare(settings: Settings, posters: int) -> tuple[int, list[str]]:
    state = AppState.from_settings(settings)
    try:
        tokens = await make_buyers(state, posters + 1)
        async with state.db.sessions() as session:
            host = (await session.execute(select(User).order_by(User.id).limit(1))).scalar_one()
            room, _ = await service.create_room(
                session, host=host, title="bench", language="fr", starts_at=datetime.now(UTC)
            )
            await session.commit()
            room_id = room.id
    finally:
        await state.db.dispose()
    return room_id, tokens[1:]


def run(*, viewers: int = 10_000, rate: float = 12.0, seconds: float = 10.0) -> dict[str, Any]:
    # The server lets a viewer post 1 message/s (bursts of 5): each poster posts every 3 s,
    # so a loaded server that reads a poster's messages late still accepts them all.
    posters = max(1, math.ceil(rate * 3))
    limit = raise_open_files(viewers + posters + 1024)
    if limit < viewers + posters + 256:
        raise SystemExit(f"open-file limit {limit} is too low for {viewers} viewers (raise the hard limit)")
    with tempfile.TemporaryDirectory(prefix="passerelle-bench-live-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        migrate.upgrade(settings.resolved_database_url)
        room_id, tokens = asyncio.run(_prepare(settings, posters))
        plan = data_dir / "live-plan.json"
        plan.write_text(json.dumps({"room_id": room_id, "tokens": tokens}))
        with BenchServer(data_dir) as server:
            stats = _drive(server.url, plan, room_id=room_id, viewers=viewers, rate=rate, seconds=seconds)
    stats["machine"] = f"{_cpus()} vCPU"
    return stats


def _drive(url: str, plan: Path, *, room_id: int, viewers: int, rate: float, seconds: float) -> dict[str, Any]:
    """Viewers in one process; once all are in, posters in another; then the tally."""
    client = [sys.executable, "-m", "passerelle.bench.live_client"]
    watching = subprocess.Popen(
        [*client, "viewers", url, str(room_id), str(viewers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert watching.stdin is not None and watching.stdout is not None
    ready = json.loads(watching.stdout.readline() or "{}")
    if not ready:
        raise RuntimeError("the viewers process died while connecting")
    posting = subprocess.run(
        [*client, "posters", url, str(plan), str(rate), str(seconds)], capture_output=True, text=True
    )
    if posting.returncode != 0:
        watching.kill()
        raise RuntimeError(f"the posters process failed: {posting.stderr[-2000:]}")
    posted = json.loads(posting.stdout)
    watching.stdin.close()  # tells the viewers the posters are done
    tally = json.loads(watching.stdout.read())
    watching.wait(timeout=120)
    elapsed = max(tally.pop("last_arrival"), posted["began"] + seconds) - posted["began"]
    return {
        "viewers": tally["viewers"],
        "messages_per_s": round(posted["messages"] / seconds, 1),
        "deliveries_per_s": round(tally["deliveries"] / elapsed, 1),
        "p50_ms": tally["p50_ms"],
        "p99_ms": tally["p99_ms"],
        "dropped": (posted["messages"] - posted["rejected"]) * tally["viewers"] - tally["deliveries"],
        "messages": posted["messages"],
        "rejected": posted["rejected"],
        "deliveries": tally["deliveries"],
        "failed_connects": tally["failed_connects"],
        "closed_early": tally["closed_early"],
        "connect_s": tally["connect_s"],
    }


def _cpus() -> int:
    return len(os.sched_getaffinity(0))
