"""Live-room fixtures: real `passerelle serve` processes over one seeded SQLite database,
WebSocket viewers (the `websockets` client), and Chromium from the e2e suite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

from passerelle.accounts import passwords
from passerelle.live import service
from passerelle.state import AppState
from tests import live_server as live
from tests.e2e.conftest import browser, chromium  # noqa: F401 - shared fixtures
from tests.factories import Actor, make_merchant, make_product, make_user


@dataclass
class Cast:
    host: Actor
    viewers: list[Actor]
    product_id: int
    room_id: int
    stream_key: str


def in_thread(work: Callable[[], object]) -> None:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(work).result()


def seed_cast(data_dir: Path, viewers: int = 3) -> Cast:
    made: list[Cast] = []

    async def seed(state: AppState) -> None:
        passwords.configure(time_cost=1, memory_kib=1024)  # the servers verify any cost; seeding stays quick
        host = await make_user(state)
        people = [await make_user(state) for _ in range(viewers)]
        product = await make_product(state, await make_merchant(state, await make_user(state)))
        async with state.db.sessions() as session:
            user = await session.merge(host.user)
            room, key = await service.create_room(
                session,
                host=user,
                title="Live parfums",
                language="fr",
                starts_at=datetime.now(UTC),
                product_ids=[product],
            )
            await session.commit()
        made.append(Cast(host, people, product, room.id, key))

    in_thread(lambda: live.prepare(data_dir, seed))
    return made[0]


@dataclass
class Viewer:
    """One WebSocket viewer; collects every event it receives."""

    socket: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    closed_code: int | None = None
    task: asyncio.Task[None] | None = None

    async def _pump(self) -> None:
        try:
            async for frame in self.socket:
                self.events.extend(orjson.loads(frame))
        except websockets.ConnectionClosed:
            pass
        self.closed_code = self.socket.close_code

    async def send(self, **command: Any) -> None:
        await self.socket.send(orjson.dumps(command).decode())

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]

    def texts(self) -> list[str]:
        return [e["text"] for e in self.of_type("message")]

    async def wait_for(self, check: Callable[[], Any], within: float = 5.0) -> Any:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out; events: {self.events[-10:]}")

    async def close(self) -> None:
        await self.socket.close()
        if self.task is not None:
            await self.task


async def connect(base_url: str, room_id: int, actor: Actor | None = None) -> Viewer:
    url = base_url.replace("http://", "ws://") + f"/api/v1/live/rooms/{room_id}/ws"
    headers = actor.headers if actor is not None else None
    socket = await websockets.connect(url, additional_headers=headers)
    viewer = Viewer(socket)
    viewer.task = asyncio.create_task(viewer._pump())
    await viewer.wait_for(lambda: viewer.of_type("hello") or viewer.closed_code)
    return viewer


async def api(base_url: str, method: str, path: str, actor: Actor, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, headers=actor.headers, timeout=10) as client:
        return await client.request(method, f"/api/v1/live{path}", **kwargs)
