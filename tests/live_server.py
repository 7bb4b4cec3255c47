"""A real `passerelle serve` process on a free loopback port, for black-box tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from passerelle.config import Settings
from passerelle.db import migrate
from passerelle.direct_http import DirectHttpProtocol
from passerelle.fastpath import FastPath
from passerelle.state import AppState
from tests.services import free_port


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_worker(self, starts: int = 1, timeout: float = 60.0) -> None:
        """Until the outbox worker `serve` started beside itself consumes (it starts after the
        server answers, importing the app on its own); `starts`: counting those started again."""
        deadline = time.monotonic() + timeout
        while self.log().count("worker: consuming") < starts:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the outbox worker did not start: {self.log()[-3000:]}")
            time.sleep(0.05)


def prepare(data_dir: Path, setup: Callable[[AppState], Awaitable[object]] | None = None) -> None:
    """Migrate a fresh embedded database and let `setup` fill it through the services."""
    settings = Settings(data_dir=data_dir, secret_key="live-test")
    migrate.upgrade(settings.resolved_database_url)
    if setup is None:
        return

    async def run() -> None:
        state = AppState.from_settings(settings)
        try:
            await setup(state)
        finally:
            await state.db.dispose()

    asyncio.run(run())


def start(data_dir: Path, *, extra_env: dict[str, str] | None = None, port: int = 0) -> LiveServer:
    port = port or free_port()  # a fixed port: a restart behind a proxy that knows it
    log_path = data_dir / "server.log"
    env = {
        **os.environ,
        "PASSERELLE_DATA_DIR": str(data_dir),
        "PASSERELLE_SECRET_KEY": "live-test",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "passerelle.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # generous: a loaded 2-core machine starts slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(url, data_dir, process, log_path)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {log_path.read_text(errors='replace')}")


@asynccontextmanager
async def serve_protocol_in_process(inner: FastAPI) -> AsyncIterator[int]:
    """`FastPath(inner)` under uvicorn with `passerelle serve`'s protocol (direct_http.py),
    in this process, so that a test can patch what it calls: yields its port."""
    config = uvicorn.Config(FastPath(inner), host="127.0.0.1", port=0, http=DirectHttpProtocol, log_level="critical")
    running = uvicorn.Server(config)
    serving = asyncio.create_task(running.serve())
    try:
        while not running.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
        yield running.servers[0].sockets[0].getsockname()[1]
    finally:
        running.should_exit = True
        await serving
