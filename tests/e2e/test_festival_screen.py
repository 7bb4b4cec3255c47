"""The big screen against a simulated festival: `passerelle festival simulate` drives a real
server through its public API; the screen's totals then equal the database's, and the page
in Chromium draws the map and the chart (non-empty SVG and canvas)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from passerelle.accounts.models import Role
from passerelle.bench.simulate import simulate
from passerelle.config import Settings
from passerelle.festival import service as festivals
from passerelle.state import AppState
from tests import live_server as live
from tests.e2e.conftest import _in_thread
from tests.e2e.test_shopping_journey import new_page
from tests.factories import make_merchant, make_product, make_user
from tests.festival.test_screen import database_totals

pytestmark = pytest.mark.e2e


@dataclass
class ScreenShop:
    url: str
    data_dir: Path
    operator_email: str
    operator_token: str


@pytest.fixture(scope="module")
def screen_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScreenShop]:
    data_dir = tmp_path_factory.mktemp("e2e-screen")
    seeded: dict[str, Any] = {}

    async def seed(state: AppState) -> None:
        operator = await make_user(state, role=Role.operator)
        for price in (3900, 12500):
            seller = await make_user(state)
            shop = await make_merchant(state, seller, ships_to=("FR", "DE", "US", "ES", "IT", "JP"))
            for n in range(3):
                await make_product(state, shop, price=price + n * 100, stock=500)
        now = datetime.now(UTC)
        async with state.db.sessions() as session:
            await festivals.create_festival(
                session,
                actor=await session.merge(operator.user),
                name="11.11 Simulation",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=6),
                time_zone="Europe/Paris",
            )
            await session.commit()
        seeded.update(operator_email=operator.user.email, operator_token=operator.token)

    _in_thread(lambda: live.prepare(data_dir, seed))
    server = live.start(data_dir)
    try:
        yield ScreenShop(url=server.url, data_dir=data_dir, **seeded)
    finally:
        server.stop()


async def _settled(state: AppState, expected: int) -> None:
    """Webhooks are asynchronous: wait (up to 30 s) until every payment sent marked its order paid."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (await database_totals(state))[0] >= expected:
            return
        await asyncio.sleep(0.3)


async def test_given_a_simulated_burst_then_the_screen_equals_the_database_and_draws_map_and_chart(
    screen_server: ScreenShop, browser: Any, password: str, artifacts: Path
) -> None:
    from playwright.async_api import expect

    state = AppState.from_settings(Settings(data_dir=screen_server.data_dir, secret_key="live-test"))
    try:
        sent = await simulate(screen_server.url, state, rate=15, duration=3)
        assert sent.placed >= 30, sent.as_dict()
        await _settled(state, sent.paid_requests)
        orders, gmv, countries = await database_totals(state)
        assert orders == sent.paid_requests
        headers = {"Authorization": f"Bearer {screen_server.operator_token}"}
        async with httpx.AsyncClient(base_url=screen_server.url, headers=headers) as http:
            feed = await http.get("/api/v1/festivals/current/screen?once=true")
        data = orjson.loads(feed.text.split("data: ", 1)[1])
        assert data["orders"] == orders and data["gmv"]["amount"] == gmv
        assert {c["code"]: c["orders"] for c in data["countries"]} == countries
        assert {c: n for c, n in countries.items()} == dict(sent.by_country)
    finally:
        await state.db.dispose()

    page, problems = await new_page(browser, viewport={"width": 1600, "height": 900})
    await page.goto(f"{screen_server.url}/login")
    await page.fill("#login-email", screen_server.operator_email)
    await page.fill("#login-password", password)
    await page.click("form[action='/login'] button[type=submit]")
    await expect(page.locator("form[action='/login']")).to_have_count(0)
    await page.goto(f"{screen_server.url}/festival/screen")
    await expect(page.locator("[data-screen-orders]")).to_have_attribute("data-value", str(orders), timeout=10_000)
    await expect(page.locator("[data-screen-gmv]")).to_have_attribute("data-amount", str(gmv))
    await expect(page.locator("[data-screen-map][data-loaded=true]")).to_have_count(1)
    assert await page.locator("path.screen-country").count() > 150  # the world, from the vendored TopoJSON
    shaded = page.locator("path.screen-country[data-orders]")
    await expect(shaded).to_have_count(len(countries))
    painted = await page.evaluate(
        """() => {
          const canvas = document.querySelector('[data-screen-chart]');
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let ink = 0;
          for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) ink++; }
          return ink;
        }"""
    )
    assert painted > 1000, "the orders/s chart drew nothing"
    await expect(page.locator("[data-screen-merchants] li")).to_have_count(2)
    await page.screenshot(path=str(artifacts / "festival-screen-desktop.png"))
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=str(artifacts / "festival-screen-phone.png"), full_page=True)
    assert problems == []

    anonymous, _ = await new_page(browser)
    await anonymous.goto(f"{screen_server.url}/festival/screen")
    await expect(anonymous.locator("[data-screen-orders]")).to_have_attribute("data-value", str(orders))
    await expect(anonymous.locator("[data-screen-gmv]")).to_have_count(0)  # public view: no money
