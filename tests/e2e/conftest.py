"""Browser tests: `passerelle serve` (uvicorn) on a free loopback port, a migrated SQLite database in
a temp dir seeded through the services, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from passerelle.state import AppState
from tests import live_server as live
from tests.factories import PASSWORD
from tests.services import unavailable
from tests.web.marketplace import Marketplace, build_marketplace

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
BUYER_EMAIL = "margaux@acheteurs.fr"


@dataclass
class Shop:
    url: str
    market: Marketplace


def _in_thread(work: Callable[[], object]) -> None:
    """Blocking set-up (migrations, asyncio.run) off the thread that runs the test loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(work).result()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """`passerelle serve` on a free loopback port over a migrated, seeded SQLite database."""
    data_dir = tmp_path_factory.mktemp("e2e")
    built: list[Marketplace] = []

    async def seed(state: AppState) -> None:
        built.append(await build_marketplace(state))

    _in_thread(lambda: live.prepare(data_dir, seed))
    server = live.start(data_dir)
    try:
        yield Shop(url=server.url, market=built[0])
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Any]:
    try:
        from playwright.async_api import Error, async_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        except Error as error:
            unavailable(f"Chromium did not start: {error}")
        yield launched
        await launched.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def password() -> str:
    return PASSWORD
